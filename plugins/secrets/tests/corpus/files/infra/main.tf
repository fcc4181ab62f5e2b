provider "aws" {
  region     = "eu-west-1"
  access_key = "AKIA6ULGAZZQM186IN70"
  secret_key = "ASs2pZSUSOkAyHVAyBK+Wj2JIQuwIDOvmPYju0YO"
}

resource "aws_db_instance" "billing" {
  engine   = "postgres"
  username = "billing"
  password = var.db_password
  kms_key_id = "arn:aws:kms:eu-west-1:123456789012:key/7355c428-fe12-ea51-fc7b-2a909d5c1e25"
}
