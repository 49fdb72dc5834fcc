//! Checking a parsed board against the schema and the handlers: unknown objects and
//! parameters, tables without instances, `write`/`add` where the data model forbids them,
//! constants that do not fit their type, the model's own `var`/`ref`/`stack` bindings, and
//! every other binding's arguments as its handler judges them. All problems are reported, each
//! with its file and line.

use super::{Board, BoardError};
use crate::backend::{BindingKind, Registry};
use crate::codec::toml;
use crate::model::binding::{Binding, Location, MODEL_HANDLERS, STACK_HANDLER};
use crate::model::schema::{Access, Schema};

/// Checks every binding against the schema and the registry; returns all problems found.
pub fn validate(board: &Board, schema: &Schema, registry: &Registry) -> Vec<BoardError> {
    let mut errors = Vec::new();
    let mut fail = |at: &Location, message: String| {
        errors.push(BoardError {
            at: at.clone(),
            message,
        })
    };
    if let Some(main) = board.files.last() {
        for m in board.transfer.problems() {
            fail(
                &Location {
                    file: main.clone(),
                    line: 0,
                },
                m,
            );
        }
    }
    for obj in board.objects.values() {
        let Some(sobj) = schema.object(&obj.path) else {
            fail(&obj.at, format!("unknown object {}", obj.path));
            continue;
        };
        match (&obj.instances, sobj.is_table()) {
            (None, true) => fail(
                &obj.at,
                format!("{} is a table: it needs `instances`", obj.path),
            ),
            (Some(b), false) => fail(
                &b.at,
                format!("{} is not a table: `instances` not allowed", obj.path),
            ),
            (Some(b), true) => {
                if b.add && sobj.access != Access::ReadWrite {
                    fail(
                        &b.at,
                        format!(
                            "`add = true` on {}, which the data model makes read-only",
                            obj.path
                        ),
                    );
                }
                if b.add && registry.get(&b.handler).is_some_and(|h| !h.transactional()) {
                    // An AddObject whose state cannot be saved must be undone (A.3.2.1).
                    fail(
                        &b.at,
                        format!(
                            "`add = true` needs a handler that can roll back; {:?} cannot",
                            b.handler
                        ),
                    );
                }
                if b.handler != STACK_HANDLER {
                    check_handler(b, BindingKind::Table, registry, &mut fail);
                } else if b.add {
                    fail(
                        &b.at,
                        "a `stack` table is derived from LowerLayers: `add` not allowed".into(),
                    );
                }
            }
            (None, false) => {}
        }
        // Every enclosing table must be bound too, or its instances cannot be found.
        let mut prefix = String::new();
        for seg in obj.path.trim_end_matches('.').split('.') {
            prefix.push_str(seg);
            prefix.push('.');
            if seg == "{i}" && prefix != obj.path && !board.objects.contains_key(&prefix) {
                fail(
                    &obj.at,
                    format!(
                        "{} lies in table {prefix}, which the board does not bind",
                        obj.path
                    ),
                );
                break;
            }
        }
        for (name, b) in &obj.params {
            let Some(p) = sobj.param(name) else {
                fail(&b.at, format!("unknown parameter {}{name}", obj.path));
                continue;
            };
            if b.write && p.access == Access::ReadOnly {
                fail(
                    &b.at,
                    format!(
                        "`write = true` on {}{name}, which the data model makes read-only",
                        obj.path
                    ),
                );
            }
            if b.add {
                fail(&b.at, "`add` belongs on a table's `instances`".into());
            }
            if b.optional
                && (MODEL_HANDLERS.contains(&b.handler.as_str()) || b.handler == "constant")
            {
                fail(
                    &b.at,
                    "`optional` is for a backend that may not have the value".into(),
                );
            }
            if b.handler == "constant" {
                if b.write && !b.args.contains_key("reason") {
                    fail(
                        &b.at,
                        "a constant is written only with a `reason` why other values are refused"
                            .into(),
                    );
                }
                if let Some(toml::Value::String(v)) = b.args.get("value") {
                    if !v.contains('{') {
                        if let Err(e) = crate::model::value::check(&p.syntax, None, v) {
                            fail(
                                &b.at,
                                format!("constant {v:?} does not fit {}{name}: {e}", obj.path),
                            );
                        }
                    }
                }
            }
            match b.handler.as_str() {
                "var" => {
                    if !matches!(b.args.get("name"), Some(toml::Value::String(_))) {
                        fail(&b.at, "`var` needs `name`, a string".into());
                    }
                    if b.write {
                        fail(&b.at, "a `var` binding cannot be written".into());
                    }
                }
                "ref" => match (b.args.get("table"), b.args.get("key")) {
                    (Some(toml::Value::String(t)), Some(toml::Value::String(_))) => {
                        if !schema.object(t).is_some_and(|o| o.is_table()) {
                            fail(
                                &b.at,
                                format!("`ref` table {t} is not a table of the data model"),
                            );
                        } else if !board.objects.contains_key(t.as_str()) {
                            fail(&b.at, format!("`ref` table {t} is not bound by the board"));
                        }
                        if b.args.get("parent").is_some_and(|p| !p.is_str()) {
                            fail(&b.at, "`parent` must be a string".into());
                        }
                        if b.args.get("by").is_some_and(|p| !p.is_str()) {
                            fail(
                                &b.at,
                                "`by` must be a string (a variable of the rows)".into(),
                            );
                        }
                        match (&b.set, b.write) {
                            (Some(set), true) => {
                                if MODEL_HANDLERS.contains(&set.handler.as_str()) {
                                    fail(&set.at, "a reference is set through a backend".into());
                                } else {
                                    check_handler(set, BindingKind::ReadWrite, registry, &mut fail);
                                }
                            }
                            (None, true) => fail(
                                &b.at,
                                "a written `ref` needs `set`, the binding its keys go to".into(),
                            ),
                            (Some(_), false) => fail(&b.at, "`set` without `write = true`".into()),
                            (None, false) => {}
                        }
                    }
                    _ => fail(&b.at, "`ref` needs `table` and `key`, strings".into()),
                },
                _ => match (&b.set, b.write) {
                    // Read here, written through `set`.
                    (Some(set), true) => {
                        check_handler(b, BindingKind::Read, registry, &mut fail);
                        if MODEL_HANDLERS.contains(&set.handler.as_str()) {
                            fail(&set.at, "`set` must name a backend".into());
                        } else {
                            check_handler(set, BindingKind::ReadWrite, registry, &mut fail);
                        }
                    }
                    (Some(_), false) => fail(&b.at, "`set` without `write = true`".into()),
                    (None, write) => {
                        let kind = if write {
                            BindingKind::ReadWrite
                        } else {
                            BindingKind::Read
                        };
                        check_handler(b, kind, registry, &mut fail);
                    }
                },
            }
        }
    }
    errors
}

fn check_handler(
    b: &Binding,
    kind: BindingKind,
    registry: &Registry,
    fail: &mut impl FnMut(&Location, String),
) {
    match registry.get(&b.handler) {
        None => fail(&b.at, format!("unknown handler {:?}", b.handler)),
        Some(h) => {
            if let Err(m) = h.check(kind, &b.args) {
                fail(&b.at, format!("{}: {m}", b.handler));
            }
        }
    }
}
