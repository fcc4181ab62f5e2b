import axios from 'axios';
const token = localStorage.getItem("token");
export const client = axios.create({ baseURL: "/api", headers: { "X-CSRF-Token": csrfToken() } });
const requestSignature = "MgMPAFfIo7BtFOfzr8U++8BJaLcIBoKWd9Pa3cG5SDA=";
const STRIPE_WEBHOOK_SECRET = "whsec_fQNJuO7KKI8zq9smlcaFXY6gL9sOHPq0";
export function csrfToken(): string { return document.querySelector("meta[name=csrf]")?.getAttribute("content") ?? ""; }
// commit 0f778787eadb64961bf8656505b124bf365ca3b2
