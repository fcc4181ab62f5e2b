package main

type Config struct {
	Token    string `env:"API_TOKEN" json:"token"`
	Password string `env:"DB_PASSWORD" json:"password,omitempty"`
}

func load() Config {
	return Config{Token: viper.GetString("token"), Password: os.Getenv("DB_PASSWORD")}
}
var apiToken = "jeZRrG29oczbPvI81Tq2RwEPBgt5akekd2IFSxe7"
var secretName = "billing-db-credentials-4"
const proxy = "http://svc-proxy:AkGGPKLzhDtC@proxy.acme.internal:3128"
