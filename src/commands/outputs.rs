//! `outputs`: what a deployed stack gives its users, read from what exists.

use super::Failure;
use super::target;
use crate::cli::{GlobalArgs, Output};
use anyhow::anyhow;
use personalize_stack_core::Stack;
use personalize_stack_core::engine::{self, Attrs};
use personalize_stack_core::spec::kinds::Visibility;
use std::collections::BTreeMap;

/// One output line.
pub struct Item {
    /// `api.url`.
    pub name: String,
    /// The value.
    pub value: String,
    /// Masked unless `--show-secrets`.
    pub secret: bool,
}

/// The outputs of `stack` given its resources' attributes.
pub fn collect(stack: &Stack, attrs: &BTreeMap<String, Attrs>) -> Vec<Item> {
    let mut items = Vec::new();
    for resource in stack.resources.values() {
        let Some(a) = attrs.get(&resource.logical) else {
            continue;
        };
        for attribute in resource.kind.attributes() {
            let secret = match attribute.visibility {
                Visibility::Reference => continue,
                Visibility::Output => false,
                Visibility::Secret => true,
            };
            if let Some(v) = a.get(attribute.name) {
                items.push(Item {
                    name: format!("{}.{}", resource.logical, attribute.name),
                    value: v.clone(),
                    secret,
                });
            }
        }
    }
    items
}

/// `abcd…` (4 characters shown).
pub fn mask(value: &str) -> String {
    let shown: String = value.chars().take(4).collect();
    format!("{shown}… (hidden; --show-secrets shows it)")
}

/// `items` as one JSON object, `{"api.url": …}`, secrets masked unless `show_secrets`.
pub fn json(items: &[Item], show_secrets: bool) -> serde_json::Value {
    serde_json::Value::Object(
        items
            .iter()
            .map(|i| (i.name.clone(), serde_json::Value::String(shown(i, show_secrets))))
            .collect(),
    )
}

fn shown(item: &Item, show_secrets: bool) -> String {
    if item.secret && !show_secrets {
        mask(&item.value)
    } else {
        item.value.clone()
    }
}

/// Prints `items`.
pub fn print(global: &GlobalArgs, items: &[Item], show_secrets: bool) {
    match global.output {
        Output::Json => println!("{:#}", json(items, show_secrets)),
        Output::Text => {
            let width = items.iter().map(|i| i.name.len()).max().unwrap_or(0);
            for i in items {
                println!("{:<width$}  {}", i.name, shown(i, show_secrets));
            }
        }
    }
}

/// The attributes of the stack's resources that exist and are its own.
///
/// # Errors
/// Reading what exists failed.
pub async fn deployed(connected: &target::Connected) -> Result<BTreeMap<String, Attrs>, Failure> {
    let found = engine::inventory(&connected.aws, &connected.stack)
        .await
        .map_err(Failure::from)?;
    Ok(found
        .into_iter()
        .filter_map(|(k, o)| o.filter(|o| o.owned).map(|o| (k, o.attrs)))
        .collect())
}

/// Runs `outputs`.
pub async fn run(global: &GlobalArgs, show_secrets: bool) -> Result<(), Failure> {
    let connected = target::connect(global).await?;
    let attrs = deployed(&connected).await?;
    if attrs.is_empty() {
        return Err(Failure::Error(anyhow!(
            "nothing of stack `{}` exists on {}: run `up` first",
            connected.stack.name,
            connected.description
        )));
    }
    print(global, &collect(&connected.stack, &attrs), show_secrets);
    say_embedded(global, &connected);
    Ok(())
}

/// After outputs: the note that an embedded runtime's URLs stop answering with the command.
pub fn say_embedded(global: &GlobalArgs, connected: &target::Connected) {
    if let Some(note) = connected.embedded_note(global).filter(|_| !global.quiet) {
        eprintln!("{note}");
    }
}
