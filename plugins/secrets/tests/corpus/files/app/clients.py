import os, requests
MIRROR = "https://ci-bot:6E4a6wC9S61T61YZMY@pypi.acme.internal/simple"
client = OpenAI(api_key="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")
anthropic = Anthropic(api_key=os.environ["ANTHROPIC_API_KEY"])
gh = Github("ghs_2ASz4V3PHcK4nkWfTM6nE2YWE3TOi82zbVRG")
session = requests.Session()
session.headers["X-Request-Id"] = "3df0f945-361a-a29b-cc5a-8b4185a9151e"
    headers = {"Authorization": "Bearer eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiAiMjQzMCIsICJyb2xlIjogImFkbWluIiwgImlhdCI6IDE3NjcyMjU2MDB9.wLcfSq8uG21v5RejdFAa1zVDHyowDzd3bSvI2MBJdKI"}
# pragma: allowlist nextline secret
LEGACY_TOKEN = "un0kneVDC8l94HXPon5VienGhX77sDiT"
OLD_KEY = "yvQua28sedoUyWqE1TWZ1042qeki7RJ2"  # gitleaks:allow
