//! Resolving an instance path against the live tree (object, table or parameter, with the
//! variables of the instances on the way) and walking everything below a resolved position,
//! depth first, in data-model order.

use std::rc::Rc;

use super::{present, Entry, ObjectNode, Resolved, Tree};
use crate::backend::Registry;
use crate::model::binding::Vars;
use crate::model::error::ModelError;
use crate::model::path::{Path, Segment};
use crate::model::state::{ModelState, Numbered};

impl Tree {
    /// Resolves an instance path against the live tree. Returns the resolution and whether
    /// instance numbering changed on the way.
    pub fn resolve(
        &mut self,
        reg: &mut Registry,
        state: &mut ModelState,
        path: &Path,
    ) -> Result<(Resolved, Numbered), ModelError> {
        let text = path.to_string();
        let bad = || ModelError::InvalidName(text.clone());
        let segs = path.segments();
        if segs.first() != Some(&Segment::Name("Device".into())) {
            return Err(bad());
        }
        let mut node = self.node("Device.").ok_or_else(bad)?;
        let mut cur = String::from("Device.");
        let mut vars: Rc<Vars> = self.globals.clone();
        let mut changed = Numbered::Same;
        // Set while positioned on a table (after its name, before its instance number).
        let mut in_table: Option<Rc<ObjectNode>> = None;
        let last = segs.len() - 1;
        for (i, seg) in segs.iter().enumerate().skip(1) {
            match (seg, in_table.take()) {
                (Segment::Instance(n), Some(table)) => {
                    let (listed, ch) = self.list(reg, state, &table, &cur, &vars)?;
                    changed = changed.max(ch);
                    let found = listed.iter().find(|l| l.number == *n).ok_or_else(bad)?;
                    vars = found.vars.clone();
                    cur.push_str(&format!("{n}."));
                    node = table;
                }
                (Segment::Name(name), None) => {
                    if let Some(child) = node.children.iter().find(|c| &c.name == name) {
                        let child_node = self.node(&child.schema).ok_or_else(bad)?;
                        cur.push_str(name);
                        cur.push('.');
                        if child.table {
                            in_table = Some(child_node);
                        } else {
                            node = child_node;
                        }
                    } else if let Some(index) = node.params.iter().position(|p| &p.name == name) {
                        if i != last || path.is_partial() {
                            return Err(bad());
                        }
                        if !node
                            .params
                            .get(index)
                            .is_some_and(|p| present(reg, p, &text, &vars))
                        {
                            return Err(bad());
                        }
                        return Ok((
                            Resolved::Param {
                                node,
                                index,
                                path: text,
                                vars,
                            },
                            changed,
                        ));
                    } else {
                        return Err(bad());
                    }
                }
                _ => return Err(bad()),
            }
        }
        if !path.is_partial() {
            return Err(bad());
        }
        match in_table {
            Some(table) => Ok((
                Resolved::Table {
                    node: table,
                    path: cur,
                    vars,
                },
                changed,
            )),
            None => Ok((
                Resolved::Object {
                    node,
                    path: cur,
                    vars,
                },
                changed,
            )),
        }
    }

    /// Walks everything below a resolved position, depth first, in data-model order.
    /// With `next_level`, only the immediate children are emitted.
    pub fn walk(
        &mut self,
        reg: &mut Registry,
        state: &mut ModelState,
        at: &Resolved,
        next_level: bool,
        out: &mut Vec<Entry>,
    ) -> Result<Numbered, ModelError> {
        match at {
            Resolved::Param {
                node,
                index,
                path,
                vars,
            } => {
                out.push(Entry::Param {
                    node: node.clone(),
                    index: *index,
                    path: path.clone(),
                    vars: vars.clone(),
                });
                Ok(Numbered::Same)
            }
            Resolved::Object { node, path, vars } => self.walk_object(
                reg,
                state,
                node.clone(),
                path,
                vars.clone(),
                next_level,
                out,
            ),
            Resolved::Table { node, path, vars } => {
                self.walk_table(reg, state, node.clone(), path, vars, next_level, out)
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn walk_table(
        &mut self,
        reg: &mut Registry,
        state: &mut ModelState,
        node: Rc<ObjectNode>,
        path: &str,
        vars: &Vars,
        next_level: bool,
        out: &mut Vec<Entry>,
    ) -> Result<Numbered, ModelError> {
        let (listed, mut changed) = self.list(reg, state, &node, path, vars)?;
        for l in listed.iter() {
            let ipath = format!("{path}{}.", l.number);
            out.push(Entry::Object {
                path: ipath.clone(),
                writable: node.addable,
            });
            if !next_level {
                let c =
                    self.walk_object(reg, state, node.clone(), &ipath, l.vars.clone(), false, out)?;
                changed = changed.max(c);
            }
        }
        Ok(changed)
    }

    #[allow(clippy::too_many_arguments)]
    fn walk_object(
        &mut self,
        reg: &mut Registry,
        state: &mut ModelState,
        node: Rc<ObjectNode>,
        path: &str,
        vars: Rc<Vars>,
        next_level: bool,
        out: &mut Vec<Entry>,
    ) -> Result<Numbered, ModelError> {
        let mut changed = Numbered::Same;
        for (index, p) in node.params.iter().enumerate() {
            let ppath = format!("{path}{}", p.name);
            if !present(reg, p, &ppath, &vars) {
                continue;
            }
            out.push(Entry::Param {
                node: node.clone(),
                index,
                path: ppath,
                vars: vars.clone(),
            });
        }
        for child in &node.children {
            let cpath = format!("{path}{}.", child.name);
            let Some(cnode) = self.node(&child.schema) else {
                continue;
            };
            out.push(Entry::Object {
                path: cpath.clone(),
                writable: child.table && cnode.addable,
            });
            if next_level {
                continue;
            }
            if child.table {
                // A table whose backend fails is reported empty rather than failing the walk.
                match self.walk_table(reg, state, cnode, &cpath, &vars, false, out) {
                    Ok(c) => changed = changed.max(c),
                    Err(e) => log::warn!("{e}"),
                }
            } else {
                let c = self.walk_object(reg, state, cnode, &cpath, vars.clone(), false, out)?;
                changed = changed.max(c);
            }
        }
        Ok(changed)
    }
}
