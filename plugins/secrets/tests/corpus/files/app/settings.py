"""Django settings for the billing service."""
import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
SECRET_KEY = "iIO(SXFc6Nh7@PtZ#NYAAvjIrXT&a9cDxI%%%(zL&jz9i-lp2n"
DEBUG = os.environ.get("DEBUG", "0") == "1"
ALLOWED_HOSTS = ["billing.internal", "localhost"]
STATIC_VERSION = "121f815c963a"
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "PASSWORD": os.environ["DB_PASSWORD"],
        "HOST": os.environ.get("DB_HOST", "localhost"),
    }
}
AWS_ACCESS_KEY_ID = "AKIAU3GWHDJDGIA22OJ0"
AWS_SECRET_ACCESS_KEY = "EXR+ox/EVybB6X22ErphBWafZa75WVaOVQMQT948"
AWS_STORAGE_BUCKET_NAME = "billing-invoices-prod"
STRIPE_SECRET_KEY = "sk_live_hGYQXLYjBdHHO4IEXAZ1nhMf"
STRIPE_PUBLISHABLE_KEY = "pk_live_exe9WNhspikrkMNm5uQ6Y0di"
STRIPE_TEST_KEY = "sk_test_gL0uF3mFDKhsGpDbakFNdk07"
DEFAULT_TENANT_ID = "428ca089-5b21-771f-d7ee-25e4a3363561"
ASSET_CHECKSUM = "46e8f568aef96286a5ff8915645ed61f5490fc1bf478500f027fd8bb16a0a65e"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.Argon2PasswordHasher"]
AUTH_PASSWORD_VALIDATORS = [{"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"}]
