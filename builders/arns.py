"""ARNs of the stack's resources, from their physical names. Pure string work."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Arns:
    """ARN factory for one partition, region and account."""

    partition: str
    region: str
    account_id: str

    def _arn(self, service: str, resource: str, *, regional: bool = True, account: bool = True) -> str:
        region = self.region if regional else ""
        account_id = self.account_id if account else ""
        return f"arn:{self.partition}:{service}:{region}:{account_id}:{resource}"

    def bucket(self, bucket: str) -> str:
        return self._arn("s3", bucket, regional=False, account=False)

    def objects(self, bucket: str, prefix: str = "") -> str:
        """Every object under ``prefix`` (``prefix`` ends with '/' or is empty)."""
        return f"{self.bucket(bucket)}/{prefix}*"

    def glue_job(self, job: str) -> str:
        return self._arn("glue", f"job/{job}")

    def glue_crawler(self, crawler: str) -> str:
        return self._arn("glue", f"crawler/{crawler}")

    def glue_catalog(self) -> str:
        return self._arn("glue", "catalog")

    def glue_database(self, database: str) -> str:
        return self._arn("glue", f"database/{database}")

    def glue_tables(self, database: str) -> str:
        return self._arn("glue", f"table/{database}/*")

    def state_machine(self, name: str) -> str:
        return self._arn("states", f"stateMachine:{name}")

    def executions(self, name: str) -> str:
        return self._arn("states", f"execution:{name}:*")

    def trail(self, name: str) -> str:
        return self._arn("cloudtrail", f"trail/{name}")

    def rule(self, name: str, bus: str = "default") -> str:
        resource = f"rule/{name}" if bus == "default" else f"rule/{bus}/{name}"
        return self._arn("events", resource)

    def log_groups(self, prefix: str) -> str:
        """Log groups whose name starts with ``prefix``, and their streams."""
        return self._arn("logs", f"log-group:{prefix}*")

    def root(self) -> str:
        return f"arn:{self.partition}:iam::{self.account_id}:root"
