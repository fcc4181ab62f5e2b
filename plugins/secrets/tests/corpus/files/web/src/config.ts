// Runtime configuration of the web client.
export const firebaseConfig = {
  apiKey: "AIzauMLBqGoTvYzhF9s4WMYR9IehS87jCenlkXO",
  authDomain: "invoices-prod.firebaseapp.com",
  projectId: "invoices-prod",
  appId: "1:888503597513:web:029b73d87e92c3331b820a",
};

export const SENDGRID_API_KEY = "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";
export const API_KEY = "your-api-key-here";
export const VAPID_PUBLIC_KEY = "B0eOaf1rqXhCV3U38rSKF_N6oj6QZ_6bAf3ezQzT2vgg0ysE7cDf6dOLxqe044zF_PjsHbeouj716Seo0ooBKaA";
export const BUILD_ID = "d80ffd5fcfde8cfd65699c5acd52df979e91ee81";
export const LOGO = "data:image/png;base64,qdt/Kj47jFkJwOvfvjI24sPXli8ztdLx9cjV7RHiT3ITdm767sf5pg/bD/vMtCFLcLoFydavXmDwQq53V9WrGJjSLZFpY8hlyA422fG7GRCVsdchaHu4LerAY8+bciFF";
export const SERVICE_TOKEN = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiAiNjgzNyIsICJyb2xlIjogImFkbWluIiwgImlhdCI6IDE3NjcyMjU2MDB9.1QNwTz-bUCD0RFTIa0xh3SOrdwlbZULz9m_KMAxnrLY";
export const apiBase = process.env.API_BASE ?? "/api/v1";
export function authHeader(token: string) { return { Authorization: `Bearer ${token}` }; }
export const CSP_NONCE_SEED = "m9CSenbR85SEl8Kj0wEECg==";
