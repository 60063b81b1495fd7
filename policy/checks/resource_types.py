"""The pulumi-aws type tokens the rules look at (several domains refer to the same types)."""

BUCKET = "aws:s3/bucket:Bucket"
BUCKET_TYPES = (BUCKET, "aws:s3/bucketV2:BucketV2")
PUBLIC_ACCESS_BLOCK = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
OWNERSHIP_CONTROLS = "aws:s3/bucketOwnershipControls:BucketOwnershipControls"
SSE_TYPES = (
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2",
)
VERSIONING_TYPES = ("aws:s3/bucketVersioning:BucketVersioning", "aws:s3/bucketVersioningV2:BucketVersioningV2")
LIFECYCLE_TYPES = (
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
    "aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2",
)
BUCKET_POLICY = "aws:s3/bucketPolicy:BucketPolicy"
BUCKET_ACL_TYPES = ("aws:s3/bucketAcl:BucketAcl", "aws:s3/bucketAclV2:BucketAclV2")
TRAIL = "aws:cloudtrail/trail:Trail"
GLUE_JOB = "aws:glue/job:Job"
GLUE_CRAWLER = "aws:glue/crawler:Crawler"
GLUE_ML_TRANSFORM = "aws:glue/mLTransform:MLTransform"
GLUE_SECURITY_CONFIGURATION = "aws:glue/securityConfiguration:SecurityConfiguration"
GLUE_DATABASE = "aws:glue/catalogDatabase:CatalogDatabase"
SQS_QUEUE = "aws:sqs/queue:Queue"
SQS_QUEUE_POLICY = "aws:sqs/queuePolicy:QueuePolicy"
SNS_TOPIC = "aws:sns/topic:Topic"
SNS_TOPIC_POLICY = "aws:sns/topicPolicy:TopicPolicy"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
KMS_KEY = "aws:kms/key:Key"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
IAM_POLICY = "aws:iam/policy:Policy"
MANAGED_ATTACHMENT_TYPES = (
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
    "aws:iam/policyAttachment:PolicyAttachment",
    "aws:iam/rolePolicyAttachmentsExclusive:RolePolicyAttachmentsExclusive",
)

# Resource types of this stack (and close relatives) whose pulumi-aws class takes
# ``tags``. tests/test_policy_pack.py keeps this equal to pulumi-aws' own classes
# for every type the rendered stacks contain.
TAGGABLE_TYPES = frozenset(
    {
        TRAIL,
        "aws:cloudwatch/eventRule:EventRule",
        LOG_GROUP,
        "aws:cloudwatch/metricAlarm:MetricAlarm",
        GLUE_DATABASE,
        GLUE_CRAWLER,
        GLUE_JOB,
        GLUE_ML_TRANSFORM,
        IAM_POLICY,
        ROLE,
        KMS_KEY,
        BUCKET,
        "aws:s3/bucketObjectv2:BucketObjectv2",
        "aws:sfn/stateMachine:StateMachine",
        SNS_TOPIC,
        SQS_QUEUE,
    }
)
