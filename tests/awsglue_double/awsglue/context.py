"""``GlueContext``: the Spark session of the given SparkContext."""
from __future__ import annotations


class GlueContext:
    def __init__(self, spark_context):
        from pyspark.sql import SparkSession

        self._sc = spark_context
        self.spark_session = SparkSession(spark_context)

    def get_logger(self):
        import logging

        return logging.getLogger("awsglue")
