"""``Job``: records init and commit, as a test wants to see them."""
from __future__ import annotations


class Job:
    instances: list["Job"] = []

    def __init__(self, glue_context):
        self.glue_context = glue_context
        self.name = None
        self.args = None
        self.committed = False
        Job.instances.append(self)

    def init(self, name, args):
        self.name, self.args = name, dict(args)

    def commit(self):
        if self.name is None:
            raise RuntimeError("Job.commit() before Job.init()")
        self.committed = True
