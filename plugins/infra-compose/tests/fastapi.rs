//! `qlp/compose` over the FastAPI agent's projects (see `common`).

mod common;

#[test]
fn the_fastapi_service_runs_with_postgres() {
    common::check_stack(
        "fastapi",
        qlp_plugin_template_fastapi::generate_project,
        "A FastAPI service for recipes with a PostgreSQL database on port 9000",
    );
}
