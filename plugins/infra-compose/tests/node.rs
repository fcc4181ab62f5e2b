//! `qlp/compose` over the Node agent's projects (see `common`).

mod common;

#[test]
fn the_node_service_runs_with_mysql_and_redis() {
    common::check_stack(
        "node",
        qlp_plugin_template_node::generate_project,
        "A Node.js TypeScript API for orders stored in MySQL, with login tokens and Redis",
    );
}
