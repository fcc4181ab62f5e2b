import os

import boto3

# ruleid: acme/no-aws-access-key
ACCESS_KEY = "AKIAIOSFODNN7EXAMPLE"

# ok: acme/no-aws-access-key
REGION = "AKIA-not-a-key"

# ok: acme/no-aws-access-key
access_key = os.environ["AWS_ACCESS_KEY_ID"]

client = boto3.client(
    "s3",
    # ruleid: acme/no-aws-access-key
    aws_access_key_id="ASIAY34FZKBOKMUTVV7A",
)
