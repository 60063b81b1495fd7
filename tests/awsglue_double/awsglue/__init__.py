"""Test double of AWS Glue's ``awsglue`` package (the pieces the dedup job's entry point uses)."""
