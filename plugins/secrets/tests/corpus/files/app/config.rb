Rails.application.configure do
  config.secret_key_base = ENV.fetch("SECRET_KEY_BASE")
  config.x.stripe.secret = Rails.application.credentials.dig(:stripe, :secret)
  config.x.token_ttl = 3600
  config.x.password_min_length = 12
  config.x.webhook_secret = "whsec_c2WmqoUPtdDw1Unur0kuBuyoFsH8qyYz"
  config.x.api_key_header = "X-Api-Key"
end
