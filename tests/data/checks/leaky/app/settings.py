"""Settings of the reporting job."""

AWS_ACCESS_KEY_ID = "AKIA4Q7ZRTBN2XW5HJ3K"
REGION = "eu-west-1"
