import { S3Client } from "@aws-sdk/client-s3";

const client = new S3Client({
  credentials: {
    // ruleid: acme/no-aws-access-key
    accessKeyId: "AKIAIOSFODNN7EXAMPLE",
    // ok: acme/no-aws-access-key
    secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY ?? "",
  },
});

// ok: acme/no-aws-access-key
const prefix = "AKIA" + suffix;
export default client;
