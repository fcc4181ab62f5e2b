import hashlib, hmac, os, secrets
def sign(body: bytes) -> str:
    key = os.environ["BACKUP_HMAC_KEY"].encode()
    return hmac.new(key, body, hashlib.sha256).hexdigest()
def new_token() -> str:
    return secrets.token_urlsafe(32)
EXPECTED = "524d61a528162bb55df4e1d61cc26fe06f752386aff69700cb5c83ce71f5532a"
SAMPLE_TOKEN_LENGTH = 34
BACKUP_KEY_ID = "AKIANUS6E3L5E0QHYSG3"
BACKUP_SECRET = "cEDyZNf6+OadkNbEUtJelp/xxUmF49FWir//1rLQ"
password_prompt = "Enter the backup password: "
