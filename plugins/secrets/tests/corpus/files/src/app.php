<?php
return [
    'api_key' => 'fKMJ6iBzxwJ8T4W7g3hs3HMBSMVwitjr',
    'api_url' => 'https://api.acme.internal/v2',
    'db_password' => getenv('DB_PASSWORD'),
    'asset_version' => 'd12d368ffa',
    'stripe' => 'rk_live_bZZcmLrnUfBuMLIqTSvn9X2XKRMeQGl7',
];
