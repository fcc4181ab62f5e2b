//! The project QLP's `qlp/template-go` agent generates, with and without
//! JWT authentication and a database seam, carries no high or critical
//! `qlp/security` finding. (One agent per test binary: agents export the
//! same component symbols natively.)

mod common;

#[test]
fn generated_go_projects_have_no_high_or_critical_findings() {
    for requirements in common::REQUIREMENT_SETS {
        let intent = common::intent("A Go API for invoices and customers", requirements);
        let files = qlp_plugin_template_go::generate_project(&intent)
            .expect("the agent generates a project");
        common::assert_no_serious_findings(&files);
    }
}
