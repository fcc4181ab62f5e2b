region = "eu-west-1"
db_password = null
db_snapshot_id = "rds:billing-2024-01-01"
github_token = "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"
vpc_id = "vpc-89340fa7e162dd886"
kms_key_arn = "arn:aws:kms:eu-west-1:123456789012:key/6a5fba58-5638-e66f-0cd3-7ba27c68149d"
analytics_dsn = "mysql://reporter:rCivKgFpBFsU3RiPGx@analytics.internal:3306/events"
