//! `schema`: the JSON Schema of stack.yaml on stdout.

/// Prints the schema.
pub fn run() {
    print!("{}", personalize_stack_core::schema::json_schema());
}
