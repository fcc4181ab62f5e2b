//! `qlp/git` against the real git: object ids and packs checked by git's
//! own commands ([`objects`]), and deliveries pushed through the real
//! `git http-backend` behind `tests/servers/git_http_server.py`, then
//! cloned and compared ([`delivery`]).
//!
//! git (with git-http-backend) and python3 come with the machine image or
//! `deploy/setup.sh`. Without them the tests say SKIPPED and pass, except
//! under CI (`CI` set), where they fail.

mod common;
mod delivery;
mod objects;
