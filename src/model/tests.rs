//! Tests of the model's RPC semantics against a small schema, a board written as text and an
//! in-memory handler that can be told to fail.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

use crate::backend::{Args, ArgsError, BackendError, BindingKind, Handler, Instance, Registry};
use crate::board;
use crate::model::error::ModelError;
use crate::model::schema::{
    Access, BaseType, NotifyPolicy, Object, Parameter, Schema, Status, Syntax,
};
use crate::model::state::ModelState;
use crate::model::{AttributeChange, Model, SetItem};
use crate::soap::fault::Fault;

/// Shared view of what the memory handler did, and how it should fail.
#[derive(Default)]
struct Log {
    values: BTreeMap<String, String>,
    rows: Vec<String>,
    sets: usize,
    fail_on_set: Option<usize>,
    fail_prepare: bool,
    fail_commit: bool,
    /// Writes at once and cannot roll back (the model writes old values back itself).
    immediate: bool,
    staged: Vec<(String, String)>,
    staged_rows: Option<Vec<String>>,
    /// What the last commit replaced.
    before: Option<(BTreeMap<String, String>, Vec<String>)>,
    commits: usize,
    prepares: usize,
    rollbacks: usize,
    aborts: usize,
    pending: bool,
}

struct Mem(Rc<RefCell<Log>>);

impl Handler for Mem {
    fn check(&self, _kind: BindingKind, args: &crate::codec::toml::Table) -> Result<(), ArgsError> {
        if args.contains_key("bogus") {
            return Err("unknown argument bogus".into());
        }
        Ok(())
    }
    fn get(&mut self, args: &Args) -> Result<String, BackendError> {
        let key = args.str("key")?;
        self.0
            .borrow()
            .values
            .get(key)
            .cloned()
            .ok_or_else(|| BackendError::NotFound(key.into()))
    }
    fn set(&mut self, args: &Args, value: &str) -> Result<(), BackendError> {
        let mut l = self.0.borrow_mut();
        l.sets += 1;
        if l.fail_on_set == Some(l.sets) {
            return Err(BackendError::Io("disk on fire".into()));
        }
        let key = args.str("key")?.to_string();
        if l.immediate {
            l.values.insert(key, value.to_string());
        } else {
            l.staged.push((key, value.to_string()));
        }
        Ok(())
    }
    fn instances(&mut self, _args: &Args) -> Result<Vec<Instance>, BackendError> {
        let l = self.0.borrow();
        Ok(l.staged_rows
            .as_ref()
            .unwrap_or(&l.rows)
            .iter()
            .map(|r| {
                let peer = l
                    .values
                    .get(&format!("peer-{r}"))
                    .cloned()
                    .unwrap_or_default();
                Instance::new(r.clone())
                    .var("row", r.clone())
                    .var("peer", peer)
            })
            .collect())
    }
    fn add(&mut self, _args: &Args) -> Result<Instance, BackendError> {
        let mut l = self.0.borrow_mut();
        let mut rows = l.staged_rows.clone().unwrap_or_else(|| l.rows.clone());
        let name = format!("row{}", rows.len() + 10);
        rows.push(name.clone());
        l.staged_rows = Some(rows);
        Ok(Instance::new(name))
    }
    fn delete(&mut self, _args: &Args, inst: &Instance) -> Result<(), BackendError> {
        let mut l = self.0.borrow_mut();
        let mut rows = l.staged_rows.clone().unwrap_or_else(|| l.rows.clone());
        rows.retain(|r| r != &inst.key);
        l.staged_rows = Some(rows);
        Ok(())
    }
    fn prepare(&mut self) -> Result<(), BackendError> {
        let mut l = self.0.borrow_mut();
        l.prepares += 1;
        if l.fail_prepare {
            return Err(BackendError::Io("no room for the new file".into()));
        }
        Ok(())
    }
    fn commit(&mut self) -> Result<bool, BackendError> {
        let mut l = self.0.borrow_mut();
        l.commits += 1;
        if l.fail_commit {
            l.staged.clear();
            l.staged_rows = None;
            return Err(BackendError::Io("rename failed".into()));
        }
        l.before = Some((l.values.clone(), l.rows.clone()));
        let staged = std::mem::take(&mut l.staged);
        l.values.extend(staged);
        if let Some(rows) = l.staged_rows.take() {
            l.rows = rows;
        }
        Ok(l.pending)
    }
    fn rollback(&mut self) -> Result<(), BackendError> {
        let mut l = self.0.borrow_mut();
        l.rollbacks += 1;
        if let Some((values, rows)) = l.before.take() {
            l.values = values;
            l.rows = rows;
        }
        Ok(())
    }
    fn abort(&mut self) {
        let mut l = self.0.borrow_mut();
        l.aborts += 1;
        l.staged.clear();
        l.staged_rows = None;
    }
    fn transactional(&self) -> bool {
        !self.0.borrow().immediate
    }
}

struct Constant;
impl Handler for Constant {
    fn check(
        &self,
        _kind: BindingKind,
        _args: &crate::codec::toml::Table,
    ) -> Result<(), ArgsError> {
        Ok(())
    }
    fn get(&mut self, args: &Args) -> Result<String, BackendError> {
        Ok(args.str("value")?.to_string())
    }
}

fn syntax(base: BaseType) -> Syntax {
    Syntax::new(base)
}

fn param(name: &str, base: BaseType, access: Access) -> Parameter {
    Parameter {
        name: name.into(),
        syntax: syntax(base),
        access,
        default: None,
        forced_inform: false,
        notify: NotifyPolicy::Normal,
        status: Status::Current,
    }
}

fn object(path: &str, access: Access, params: Vec<Parameter>) -> Object {
    Object {
        path: path.into(),
        access,
        min_entries: if path.ends_with("{i}.") { 0 } else { 1 },
        max_entries: if path.ends_with("{i}.") {
            Some(3)
        } else {
            Some(1)
        },
        num_entries: path
            .ends_with("{i}.")
            .then(|| "RowNumberOfEntries".to_string()),
        unique_keys: vec![],
        enable_parameter: None,
        status: Status::Current,
        params,
    }
}

fn schema() -> Schema {
    let mut s = Schema::default();
    let mut secret = param("Secret", BaseType::String, Access::ReadWrite);
    secret.syntax.hidden = true;
    let mut name = param("Name", BaseType::String, Access::ReadWrite);
    name.syntax.max_length = Some(8);
    let mut forced = param("Forced", BaseType::UnsignedInt, Access::ReadOnly);
    forced.notify = NotifyPolicy::ForceEnabled;
    let mut counter = param("Counter", BaseType::UnsignedInt, Access::ReadOnly);
    counter.notify = NotifyPolicy::CanDeny;
    for o in [
        object("Device.", Access::ReadOnly, vec![]),
        object(
            "Device.Box.",
            Access::ReadOnly,
            vec![
                name,
                param("Enable", BaseType::Boolean, Access::ReadWrite),
                param("Port", BaseType::UnsignedInt, Access::ReadWrite),
                param("Model", BaseType::String, Access::ReadOnly),
                param("Fixed", BaseType::String, Access::ReadWrite),
                secret,
                forced,
                counter,
                param(
                    "RowNumberOfEntries",
                    BaseType::UnsignedInt,
                    Access::ReadOnly,
                ),
                param("Link", BaseType::String, Access::ReadOnly),
                param("Deep", BaseType::String, Access::ReadOnly),
            ],
        ),
        object(
            "Device.Box.Row.{i}.",
            Access::ReadWrite,
            vec![
                param("Key", BaseType::String, Access::ReadOnly),
                param("Value", BaseType::String, Access::ReadWrite),
                param("Peer", BaseType::String, Access::ReadWrite),
                param("Extra", BaseType::String, Access::ReadOnly),
            ],
        ),
        object(
            "Device.Box.Row.{i}.Sub.{i}.",
            Access::ReadOnly,
            vec![param("Key", BaseType::String, Access::ReadOnly)],
        ),
    ] {
        s.objects.insert(o.path.clone(), Box::new(o));
    }
    s
}

const BOARD: &str = r#"
[board]
name = "test"

[[object]]
path = "Device.Box."
[object.params]
Name = { handler = "mem", key = "name", write = true }
Enable = { handler = "mem", key = "enable", write = true }
Port = { handler = "mem", key = "port", write = true }
Model = "X1"
Fixed = { handler = "mem", key = "fixed" }
Secret = { handler = "mem", key = "secret", write = true }
Forced = { handler = "mem", key = "port" }
Counter = { handler = "mem", key = "port" }
Link = { handler = "ref", table = "Device.Box.Row.{i}.", key = "b" }
Deep = { handler = "ref", table = "Device.Box.Row.{i}.Sub.{i}.", key = "b", parent = "a" }

[[object]]
path = "Device.Box.Row.{i}."
instances = { handler = "mem", add = true }
[object.params]
Key = { handler = "var", name = "row" }
Value = { handler = "mem", key = "v-{row}", write = true }
Peer = { handler = "ref", table = "Device.Box.Row.{i}.", key = "{peer}", write = true, set = { handler = "mem", key = "peer-{row}" } }
Extra = { handler = "mem", key = "extra-{row}", optional = true }

[[object]]
path = "Device.Box.Row.{i}.Sub.{i}."
instances = { handler = "mem" }
[object.params]
Key = { handler = "var", name = "row" }
"#;

struct Fixture {
    model: Model,
    log: Rc<RefCell<Log>>,
    _dir: TempDir,
}

struct TempDir(std::path::PathBuf);
impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn temp_board(text: &str) -> (TempDir, std::path::PathBuf) {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    let dir = std::env::temp_dir().join(format!(
        "cwmpd-model-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("board.toml");
    std::fs::write(&path, text).unwrap();
    (TempDir(dir), path)
}

fn registry(log: &Rc<RefCell<Log>>) -> Registry {
    let mut reg = Registry::new();
    reg.register("mem", Box::new(Mem(log.clone())));
    reg.register("constant", Box::new(Constant));
    reg
}

fn fixture() -> Fixture {
    let log = Rc::new(RefCell::new(Log::default()));
    {
        let mut l = log.borrow_mut();
        for (k, v) in [
            ("name", "box"),
            ("enable", "1"),
            ("port", "80"),
            ("fixed", "f"),
            ("secret", "hunter2"),
            ("v-a", "va"),
            ("v-b", "vb"),
        ] {
            l.values.insert(k.into(), v.into());
        }
        l.rows = vec!["a".into(), "b".into()];
    }
    let (dir, path) = temp_board(BOARD);
    let b = board::parse(&path).unwrap();
    let reg = registry(&log);
    let errors = board::validate(&b, &schema(), &reg);
    assert!(errors.is_empty(), "{errors:?}");
    let model = Model::new(&schema(), &b.objects, reg, ModelState::default()).unwrap();
    Fixture {
        model,
        log,
        _dir: dir,
    }
}

fn set(name: &str, value: &str) -> SetItem {
    SetItem {
        name: name.into(),
        value: value.into(),
        xsd_type: None,
    }
}

fn code(e: &ModelError) -> u32 {
    Fault::from(e).code.code()
}

#[test]
fn empty_path_with_next_level_lists_only_the_root() {
    let mut f = fixture();
    let names = f.model.get_names("", true).unwrap();
    assert_eq!(names.len(), 1);
    assert_eq!(names[0].name, "Device.");
}

#[test]
fn names_next_level_lists_immediate_children_with_writability() {
    let mut f = fixture();
    let names = f.model.get_names("Device.Box.", true).unwrap();
    let got: Vec<(String, bool)> = names.iter().map(|n| (n.name.clone(), n.writable)).collect();
    assert!(got.contains(&("Device.Box.Name".into(), true)));
    assert!(got.contains(&("Device.Box.Model".into(), false)));
    assert!(
        got.contains(&("Device.Box.Fixed".into(), false)),
        "readWrite in schema but not bound writable"
    );
    assert!(got.contains(&("Device.Box.Row.".into(), true)));
    assert!(
        !got.iter().any(|(n, _)| n.starts_with("Device.Box.Row.1")),
        "next level only"
    );
    let rows = f.model.get_names("Device.Box.Row.", true).unwrap();
    assert_eq!(
        rows.iter().map(|n| n.name.as_str()).collect::<Vec<_>>(),
        ["Device.Box.Row.1.", "Device.Box.Row.2."]
    );
}

#[test]
fn names_whole_tree_includes_objects_and_parameters() {
    let mut f = fixture();
    let names = f.model.get_names("", false).unwrap();
    assert_eq!(names[0].name, "Device.");
    assert!(names.iter().any(|n| n.name == "Device.Box.Row.2.Value"));
    assert!(names
        .iter()
        .any(|n| n.name == "Device.Box.RowNumberOfEntries"));
}

#[test]
fn names_of_a_parameter_with_next_level_is_invalid_arguments() {
    let mut f = fixture();
    assert_eq!(
        code(&f.model.get_names("Device.Box.Name", true).unwrap_err()),
        9003
    );
    assert_eq!(
        f.model.get_names("Device.Box.Name", false).unwrap().len(),
        1
    );
    assert_eq!(
        code(&f.model.get_names("Device.Nope.", false).unwrap_err()),
        9005
    );
}

#[test]
fn values_of_partial_and_full_paths() {
    let mut f = fixture();
    let v = f
        .model
        .get_values(&["Device.Box.Enable", "Device.Box.Row."])
        .unwrap();
    assert_eq!(v[0].value, "true", "1 normalised to true");
    assert_eq!(v[0].xsd_type, "boolean");
    let rows: Vec<(&str, &str)> = v[1..]
        .iter()
        .filter(|p| p.name.ends_with(".Key") || p.name.ends_with(".Value"))
        .filter(|p| !p.name.contains(".Sub."))
        .map(|p| (p.name.as_str(), p.value.as_str()))
        .collect();
    assert_eq!(
        rows,
        [
            ("Device.Box.Row.1.Key", "a"),
            ("Device.Box.Row.1.Value", "va"),
            ("Device.Box.Row.2.Key", "b"),
            ("Device.Box.Row.2.Value", "vb")
        ]
    );
}

#[test]
fn hidden_parameters_read_back_empty() {
    let mut f = fixture();
    assert_eq!(
        f.model.get_values(&["Device.Box.Secret"]).unwrap()[0].value,
        ""
    );
    assert_eq!(
        f.model.lookup(&["Device.Box.Secret"]),
        [Some(String::new())],
        "lookup reads as the ACS would"
    );
}

#[test]
fn secret_reads_the_real_value_through_its_binding() {
    let mut f = fixture();
    assert_eq!(
        f.model.secret("Device.Box.Secret").as_deref(),
        Some("hunter2")
    );
    f.log
        .borrow_mut()
        .values
        .insert("secret".into(), "changed".into());
    assert_eq!(
        f.model.secret("Device.Box.Secret").as_deref(),
        Some("changed"),
        "every call reads fresh"
    );
    assert_eq!(f.model.secret("Device.Box.Nope"), None);
    assert_eq!(
        f.model.secret("Device.Box."),
        None,
        "an object is no secret"
    );
}

#[test]
fn lookup_reads_each_path_on_its_own() {
    let mut f = fixture();
    f.log.borrow_mut().values.remove("fixed");
    assert_eq!(
        f.model.lookup(&[
            "Device.Box.Name",
            "Device.Box.Nope",
            "Device.Box.Fixed",
            "not a path",
            "Device.Box.Row.1.Value",
        ]),
        [
            Some("box".to_string()),
            None,
            None,
            None,
            Some("va".to_string())
        ],
        "a missing or failing parameter does not fail the others"
    );
}

#[test]
fn counts_and_references_come_from_the_live_tree() {
    let mut f = fixture();
    let v = f
        .model
        .get_values(&["Device.Box.RowNumberOfEntries", "Device.Box.Link"])
        .unwrap();
    assert_eq!(v[0].value, "2");
    assert_eq!(v[1].value, "Device.Box.Row.2");
}

#[test]
fn unknown_paths_are_invalid_names() {
    let mut f = fixture();
    for p in [
        "Device.Box.Nope",
        "Device.Box.Row.9.",
        "Device.Box.Row.1",
        "Device.Box.Name.",
        "Bad..Path",
        "Device.Box.Row.0.",
    ] {
        assert_eq!(code(&f.model.get_values(&[p]).unwrap_err()), 9005, "{p}");
    }
}

#[test]
fn set_writes_all_and_records_the_parameter_key() {
    let mut f = fixture();
    let status = f
        .model
        .set_values(
            &[
                set("Device.Box.Name", "new"),
                set("Device.Box.Port", "8080"),
            ],
            "key1",
        )
        .unwrap();
    assert_eq!(status, 0);
    assert_eq!(f.log.borrow().values["name"], "new");
    assert_eq!(f.log.borrow().values["port"], "8080");
    assert_eq!(f.model.state().parameter_key, "key1");
    assert!(f.model.dirty());
}

#[test]
fn set_reports_status_1_when_an_apply_is_pending() {
    let mut f = fixture();
    f.log.borrow_mut().pending = true;
    assert_eq!(
        f.model
            .set_values(&[set("Device.Box.Name", "x")], "k")
            .unwrap(),
        1
    );
    assert!(f.model.apply_pending());
}

#[test]
fn set_that_fails_half_way_rolls_back_and_keeps_the_old_key() {
    let mut f = fixture();
    f.model
        .set_values(&[set("Device.Box.Name", "before")], "k0")
        .unwrap();
    let sets_before = f.log.borrow().sets;
    // The third write (Row.1.Value) fails after two succeeded.
    f.log.borrow_mut().fail_on_set = Some(sets_before + 3);
    let err = f
        .model
        .set_values(
            &[
                set("Device.Box.Name", "after"),
                set("Device.Box.Port", "1"),
                set("Device.Box.Row.1.Value", "z"),
            ],
            "k1",
        )
        .unwrap_err();
    assert_eq!(code(&err), 9002);
    let l = f.log.borrow();
    assert_eq!(l.values["name"], "before", "first write undone");
    assert_eq!(l.values["port"], "80", "second write undone");
    assert_eq!(l.values["v-a"], "va");
    assert!(l.aborts >= 1);
    assert_eq!(f.model.state().parameter_key, "k0");
}

#[test]
fn set_validates_everything_before_writing_anything() {
    let mut f = fixture();
    let err = f
        .model
        .set_values(
            &[
                set("Device.Box.Name", "ok"),
                set("Device.Box.Model", "x"),
                set("Device.Box.Port", "-1"),
                set("Device.Box.Nope", "1"),
                SetItem {
                    name: "Device.Box.Enable".into(),
                    value: "true".into(),
                    xsd_type: Some("unsignedInt".into()),
                },
                set("Device.Box.Fixed", "x"),
            ],
            "k",
        )
        .unwrap_err();
    let fault = Fault::from(&err);
    assert_eq!(fault.code.code(), 9003);
    let got: Vec<(&str, u32)> = fault
        .parameters
        .iter()
        .map(|p| (p.name.as_str(), p.code.code()))
        .collect();
    assert_eq!(
        got,
        [
            ("Device.Box.Model", 9008),
            ("Device.Box.Port", 9007),
            ("Device.Box.Nope", 9005),
            ("Device.Box.Enable", 9006),
            ("Device.Box.Fixed", 9008)
        ]
    );
    assert_eq!(f.log.borrow().sets, 0, "nothing written");
    assert_eq!(f.model.state().parameter_key, "");
}

#[test]
fn set_of_the_same_parameter_twice_is_invalid_arguments() {
    let mut f = fixture();
    let err = f
        .model
        .set_values(
            &[set("Device.Box.Name", "a"), set("Device.Box.Name", "b")],
            "k",
        )
        .unwrap_err();
    assert_eq!(code(&err), 9003);
    assert!(Fault::from(&err).parameters.is_empty());
}

#[test]
fn attributes_default_persist_and_honour_policy() {
    let mut f = fixture();
    let a = f
        .model
        .get_attributes(&["Device.Box.Forced", "Device.Box.Name"])
        .unwrap();
    assert_eq!((a[0].notification, a[1].notification), (2, 0));
    f.model
        .set_attributes(&[AttributeChange {
            name: "Device.Box.Name".into(),
            notification: Some(2),
            access_list: Some(vec!["Subscriber".into()]),
        }])
        .unwrap();
    let a = f.model.get_attributes(&["Device.Box.Name"]).unwrap();
    assert_eq!(
        (a[0].notification, a[0].access_list.clone()),
        (2, vec!["Subscriber".to_string()])
    );
    assert_eq!(
        f.model.state().attributes["Device.Box.Name"].notification,
        2
    );
    // forceEnabled cannot be turned off; canDeny refuses active.
    for (name, n) in [("Device.Box.Forced", 0), ("Device.Box.Counter", 2)] {
        let e = f
            .model
            .set_attributes(&[AttributeChange {
                name: name.into(),
                notification: Some(n),
                access_list: None,
            }])
            .unwrap_err();
        assert_eq!(code(&e), 9009, "{name}");
    }
    // A rejected change in a batch changes nothing.
    let e = f
        .model
        .set_attributes(&[
            AttributeChange {
                name: "Device.Box.Port".into(),
                notification: Some(1),
                access_list: None,
            },
            AttributeChange {
                name: "Device.Box.Counter".into(),
                notification: Some(2),
                access_list: None,
            },
        ])
        .unwrap_err();
    assert_eq!(code(&e), 9009);
    assert!(!f.model.state().attributes.contains_key("Device.Box.Port"));
    let e = f
        .model
        .set_attributes(&[AttributeChange {
            name: "Device.Box.Port".into(),
            notification: Some(3),
            access_list: None,
        }])
        .unwrap_err();
    assert_eq!(code(&e), 9003);
    let e = f
        .model
        .set_attributes(&[AttributeChange {
            name: "Device.Box.Port".into(),
            notification: None,
            access_list: Some(vec!["Guest".into()]),
        }])
        .unwrap_err();
    assert_eq!(code(&e), 9003);
}

#[test]
fn attributes_on_a_partial_path_apply_below_it() {
    let mut f = fixture();
    f.model
        .set_attributes(&[AttributeChange {
            name: "Device.Box.Row.".into(),
            notification: Some(1),
            access_list: None,
        }])
        .unwrap();
    let a = f.model.get_attributes(&["Device.Box.Row."]).unwrap();
    // Key, Value and Peer of each row, and the Key of each row's two Sub rows.
    assert_eq!(a.len(), 10);
    assert!(a.iter().all(|x| x.notification == 1));
}

#[test]
fn add_and_delete_objects_never_reuse_numbers() {
    let mut f = fixture();
    let (n, status) = f.model.add_object("Device.Box.Row.", "add1").unwrap();
    assert_eq!((n, status), (3, 0));
    assert_eq!(f.model.state().parameter_key, "add1");
    assert_eq!(
        f.model
            .get_values(&["Device.Box.RowNumberOfEntries"])
            .unwrap()[0]
            .value,
        "3"
    );
    // max_entries is 3.
    assert_eq!(
        code(&f.model.add_object("Device.Box.Row.", "k").unwrap_err()),
        9004
    );
    assert_eq!(
        f.model.delete_object("Device.Box.Row.3.", "del1").unwrap(),
        0
    );
    let (n, _) = f.model.add_object("Device.Box.Row.", "add2").unwrap();
    assert_eq!(n, 4, "3 is not reused");
    assert_eq!(
        code(&f.model.delete_object("Device.Box.Row.3.", "k").unwrap_err()),
        9005
    );
    assert_eq!(
        code(&f.model.delete_object("Device.Box.", "k").unwrap_err()),
        9005
    );
    assert_eq!(
        code(&f.model.add_object("Device.Box.Row.1.", "k").unwrap_err()),
        9005
    );
    assert_eq!(
        code(&f.model.add_object("Device.Box.", "k").unwrap_err()),
        9005
    );
}

#[test]
fn instance_numbers_survive_a_restart_through_the_state() {
    let mut f = fixture();
    f.model.get_values(&["Device.Box.Row."]).unwrap();
    let saved = f.model.state().clone();
    let text = crate::codec::toml::to_string(&saved.to_table());
    // Row "a" disappears and "c" appears before the restart.
    f.log.borrow_mut().rows = vec!["b".into(), "c".into()];
    let (_dir, path) = temp_board(BOARD);
    let b = board::parse(&path).unwrap();
    let mut m = Model::new(
        &schema(),
        &b.objects,
        registry(&f.log),
        crate::model::state::ModelState::from_fields(&mut crate::codec::toml::Fields::new(
            crate::codec::toml::parse(&text).unwrap(),
        ))
        .unwrap(),
    )
    .unwrap();
    let names: Vec<String> = m
        .get_names("Device.Box.Row.", true)
        .unwrap()
        .into_iter()
        .map(|n| n.name)
        .collect();
    // "b" keeps 2; "c" is new: it gets a number never handed out (the state file reserves a
    // block of numbers ahead, so after a restart new rows go on from its ceiling).
    assert_eq!(names.len(), 2);
    assert_eq!(names[0], "Device.Box.Row.2.");
    let c: u32 = names[1]["Device.Box.Row.".len()..]
        .trim_end_matches('.')
        .parse()
        .unwrap();
    assert!(c >= 3, "{c} was handed out before the restart");
    assert_eq!(
        m.get_values(&["Device.Box.Row.2.Key"]).unwrap()[0].value,
        "b"
    );
}

#[test]
fn board_errors_name_file_and_line() {
    let bad = r#"[board]
name = "bad"

[[object]]
path = "Device.Box."
[object.params]
Nope = "x"
Model = { handler = "mem", key = "m", write = true }
Name = { handler = "nosuch" }
Port = "eighty"
Enable = { handler = "mem", bogus = 1 }

[[object]]
path = "Device.Box.Row.{i}."

[[object]]
path = "Device.Missing."
"#;
    let (_dir, path) = temp_board(bad);
    let b = board::parse(&path).unwrap();
    let log = Rc::new(RefCell::new(Log::default()));
    let errors = board::validate(&b, &schema(), &registry(&log));
    let lines: Vec<(usize, String)> = errors
        .iter()
        .map(|e| (e.at.line, e.message.clone()))
        .collect();
    let has = |line: usize, text: &str| lines.iter().any(|(l, m)| *l == line && m.contains(text));
    assert!(has(7, "unknown parameter Device.Box.Nope"), "{lines:?}");
    assert!(has(8, "read-only"), "{lines:?}");
    assert!(has(9, "unknown handler"), "{lines:?}");
    assert!(has(10, "does not fit"), "{lines:?}");
    assert!(has(11, "bogus"), "{lines:?}");
    assert!(has(13, "needs `instances`"), "{lines:?}");
    assert!(has(16, "unknown object Device.Missing."), "{lines:?}");
    assert!(errors[0].to_string().contains("board.toml:"));
}

#[test]
fn board_syntax_errors_have_a_line() {
    let (_dir, path) = temp_board("[board]\nname = \"x\"\n[[object]]\npath = \n");
    let e = board::parse(&path).unwrap_err();
    assert_eq!(e.at.line, 4, "{e}");
}

/// Three handlers (`a`, `b`, `c`) behind Name, Port and Fixed, and the log of each.
struct Three {
    model: Model,
    logs: [Rc<RefCell<Log>>; 3],
    _dir: TempDir,
}

const THREE: &str = r#"
[board]
name = "three"

[[object]]
path = "Device.Box."
[object.params]
Name = { handler = "a", key = "name", write = true }
Port = { handler = "b", key = "port", write = true }
Fixed = { handler = "c", key = "fixed", write = true }
"#;

fn three(immediate: [bool; 3]) -> Three {
    let logs: [Rc<RefCell<Log>>; 3] = Default::default();
    let mut reg = Registry::new();
    for (i, (name, key, value)) in [
        ("a", "name", "box"),
        ("b", "port", "80"),
        ("c", "fixed", "f"),
    ]
    .into_iter()
    .enumerate()
    {
        let mut l = logs[i].borrow_mut();
        l.values.insert(key.into(), value.into());
        l.immediate = immediate[i];
        drop(l);
        reg.register(name, Box::new(Mem(logs[i].clone())));
    }
    let (dir, path) = temp_board(THREE);
    let b = board::parse(&path).unwrap();
    let errors = board::validate(&b, &schema(), &reg);
    assert!(errors.is_empty(), "{errors:?}");
    let model = Model::new(&schema(), &b.objects, reg, ModelState::default()).unwrap();
    Three {
        model,
        logs,
        _dir: dir,
    }
}

impl Three {
    fn values(&self) -> [String; 3] {
        let v = |i: usize, k: &str| self.logs[i].borrow().values[k].clone();
        [v(0, "name"), v(1, "port"), v(2, "fixed")]
    }
}

const NEW: [(&str, &str); 3] = [
    ("Device.Box.Name", "new"),
    ("Device.Box.Port", "8080"),
    ("Device.Box.Fixed", "g"),
];

fn before() -> [String; 3] {
    ["box".into(), "80".into(), "f".into()]
}

fn after() -> [String; 3] {
    ["new".into(), "8080".into(), "g".into()]
}

#[test]
fn a_set_across_backends_is_all_or_nothing_wherever_it_fails() {
    // Every mix of handlers that roll back themselves and handlers the model writes old
    // values back to, over two and three backends, failing at each position in each phase.
    for immediate in [
        [false; 3],
        [true; 3],
        [false, true, false],
        [true, false, true],
    ] {
        for backends in [2, 3] {
            for at in 0..backends {
                for phase in ["set", "prepare", "commit"] {
                    let mut t = three(immediate);
                    {
                        let mut l = t.logs[at].borrow_mut();
                        match phase {
                            "set" => l.fail_on_set = Some(1),
                            "prepare" if !l.immediate => l.fail_prepare = true,
                            "prepare" => continue,
                            _ => l.fail_commit = true,
                        }
                    }
                    let items: Vec<SetItem> =
                        NEW[..backends].iter().map(|(n, v)| set(n, v)).collect();
                    let what = format!("{immediate:?} {backends} backends, {phase} of #{at}");
                    let e = t.model.set_values(&items, "k").unwrap_err();
                    assert_eq!(code(&e), 9002, "{what}: {e}");
                    assert_eq!(t.values(), before(), "{what}: nothing changed");
                    assert_eq!(t.model.state().parameter_key, "", "{what}");
                    // A transactional handler that committed before the failure rolled back.
                    for (i, l) in t.logs.iter().enumerate().take(backends) {
                        let l = l.borrow();
                        if !l.immediate && i < at && phase == "commit" {
                            assert_eq!(l.rollbacks, 1, "{what}: #{i} rolled back");
                        }
                    }
                }
            }
        }
    }
}

#[test]
fn a_committed_set_is_undone_when_it_cannot_be_saved() {
    for immediate in [[false; 3], [true, false, true]] {
        let mut t = three(immediate);
        let items: Vec<SetItem> = NEW.iter().map(|(n, v)| set(n, v)).collect();
        assert_eq!(t.model.set_values(&items, "k1").unwrap(), 0);
        assert_eq!(t.values(), after());
        assert_eq!(t.model.state().parameter_key, "k1");
        // The state file could not be written: the change is not acknowledged, and goes.
        t.model.undo();
        assert_eq!(t.values(), before(), "{immediate:?}");
        assert_eq!(t.model.state().parameter_key, "");
        assert_eq!(
            t.model.get_values(&["Device.ManagementServer."]).ok(),
            None,
            "(the schema has no ManagementServer)"
        );
        // A saved change stays.
        t.model.set_values(&items, "k2").unwrap();
        t.model.confirm();
        t.model.undo();
        assert_eq!(t.values(), after(), "confirmed");
        assert_eq!(t.model.state().parameter_key, "k2");
    }
}

#[test]
fn a_write_whose_old_value_cannot_be_read_is_refused_before_anything_is_written() {
    let mut t = three([false, true, false]);
    t.logs[1].borrow_mut().values.clear();
    let items: Vec<SetItem> = NEW.iter().map(|(n, v)| set(n, v)).collect();
    let e = t.model.set_values(&items, "k").unwrap_err();
    assert!(matches!(e, ModelError::Irreversible { ref path, .. } if path == "Device.Box.Port"));
    assert_eq!(code(&e), 9002);
    assert!(
        t.logs.iter().all(|l| l.borrow().sets == 0),
        "nothing staged"
    );
}

#[test]
fn add_and_delete_are_undone_when_they_cannot_be_saved() {
    let mut f = fixture();
    let (n, _) = f.model.add_object("Device.Box.Row.", "ka").unwrap();
    assert_eq!(f.log.borrow().rows.len(), 3);
    f.model.undo();
    assert_eq!(f.log.borrow().rows, ["a", "b"], "the row is gone again");
    assert_eq!(f.model.state().parameter_key, "");
    // The number handed out is not reused by the next AddObject that is saved… only if it was
    // saved: an undone AddObject was never acknowledged, so its number may come again.
    let (again, _) = f.model.add_object("Device.Box.Row.", "kb").unwrap();
    assert_eq!(again, n);
    f.model.confirm();
    f.model
        .delete_object(&format!("Device.Box.Row.{again}."), "kc")
        .unwrap();
    f.model.undo();
    assert_eq!(f.log.borrow().rows.len(), 3, "the delete is undone");
    // A commit that fails leaves the table as it was.
    f.log.borrow_mut().fail_commit = true;
    assert!(f.model.add_object("Device.Box.Row.", "kd").is_err());
    assert_eq!(f.log.borrow().rows.len(), 3);
}

#[test]
fn references_read_rows_of_nested_tables_by_key_and_parent() {
    let mut f = fixture();
    let v = f.model.get_values(&["Device.Box.Deep"]).unwrap();
    assert_eq!(v[0].value, "Device.Box.Row.1.Sub.2", "row b under row a");
}

#[test]
fn a_written_reference_hands_the_keys_of_the_rows_named_to_its_binding() {
    let mut f = fixture();
    assert_eq!(
        f.model.get_values(&["Device.Box.Row.1.Peer"]).unwrap()[0].value,
        ""
    );
    f.model
        .set_values(&[set("Device.Box.Row.1.Peer", "Device.Box.Row.2")], "k")
        .unwrap();
    assert_eq!(f.log.borrow().values["peer-a"], "b", "the key of row 2");
    assert_eq!(
        f.model.get_values(&["Device.Box.Row.1.Peer"]).unwrap()[0].value,
        "Device.Box.Row.2",
        "read back as the path"
    );
    // A trailing dot is the same row; a path that is no row is an invalid value.
    f.model
        .set_values(&[set("Device.Box.Row.1.Peer", "Device.Box.Row.1.")], "k")
        .unwrap();
    assert_eq!(f.log.borrow().values["peer-a"], "a");
    let e = f
        .model
        .set_values(&[set("Device.Box.Row.1.Peer", "Device.Box.Row.9")], "k")
        .unwrap_err();
    let fault = Fault::from(&e);
    assert_eq!(
        (fault.code.code(), fault.parameters[0].code.code()),
        (9003, 9007)
    );
    assert_eq!(f.log.borrow().values["peer-a"], "a", "unchanged");
}

#[test]
fn an_optional_parameter_is_absent_where_its_backend_has_no_value() {
    let mut f = fixture();
    f.log
        .borrow_mut()
        .values
        .insert("extra-b".into(), "here".into());
    let names: Vec<String> = f
        .model
        .get_names("Device.Box.Row.", false)
        .unwrap()
        .into_iter()
        .map(|n| n.name)
        .filter(|n| n.ends_with("Extra"))
        .collect();
    assert_eq!(names, ["Device.Box.Row.2.Extra"]);
    assert_eq!(
        code(&f.model.get_values(&["Device.Box.Row.1.Extra"]).unwrap_err()),
        9005
    );
    assert_eq!(
        f.model.get_values(&["Device.Box.Row.2.Extra"]).unwrap()[0].value,
        "here"
    );
}

#[test]
fn a_reference_by_a_row_variable_matches_rows_by_it_and_writes_its_value() {
    let plain = r#"key = "{peer}", write = true"#;
    assert!(BOARD.contains(plain));
    let board = BOARD.replace(plain, r#"key = "{peer}", by = "peer", write = true"#);
    let log = Rc::new(RefCell::new(Log::default()));
    {
        let mut l = log.borrow_mut();
        l.values.insert("peer-a".into(), "q".into());
        l.values.insert("peer-b".into(), "x".into());
        l.rows = vec!["a".into(), "b".into()];
    }
    let (_dir, path) = temp_board(&board);
    let b = board::parse(&path).unwrap();
    let reg = registry(&log);
    assert!(board::validate(&b, &schema(), &reg).is_empty());
    let mut model = Model::new(&schema(), &b.objects, reg, ModelState::default()).unwrap();
    // Row a's peer "q" is row a's own `peer` variable.
    let read = |m: &mut Model| {
        m.get_values(&["Device.Box.Row.1.Peer"]).unwrap()[0]
            .value
            .clone()
    };
    assert_eq!(read(&mut model), "Device.Box.Row.1");
    // Writing row 2 hands row 2's `peer` variable, not its key.
    model
        .set_values(&[set("Device.Box.Row.1.Peer", "Device.Box.Row.2")], "k")
        .unwrap();
    assert_eq!(log.borrow().values["peer-a"], "x");
    assert_eq!(read(&mut model), "Device.Box.Row.1,Device.Box.Row.2");
}

#[test]
fn a_binding_with_set_is_read_in_one_place_and_written_in_the_other() {
    let text = BOARD.replace(
        r#"Fixed = { handler = "mem", key = "fixed" }"#,
        r#"Fixed = { handler = "mem", key = "fixed", write = true, set = { handler = "mem", key = "conf" } }"#,
    );
    let (_dir, path) = temp_board(&text);
    let b = board::parse(&path).unwrap();
    let log = Rc::new(RefCell::new(Log::default()));
    log.borrow_mut()
        .values
        .insert("fixed".into(), "live".into());
    log.borrow_mut().values.insert("conf".into(), "old".into());
    let errors = board::validate(&b, &schema(), &registry(&log));
    assert!(errors.is_empty(), "{errors:?}");
    let mut m = Model::new(&schema(), &b.objects, registry(&log), ModelState::default()).unwrap();
    m.set_values(&[set("Device.Box.Fixed", "configured")], "k")
        .unwrap();
    assert_eq!(
        log.borrow().values["conf"],
        "configured",
        "written to `set`"
    );
    assert_eq!(
        log.borrow().values["fixed"],
        "live",
        "the read source untouched"
    );
    assert_eq!(
        m.get_values(&["Device.Box.Fixed"]).unwrap()[0].value,
        "live"
    );
    // `set` without `write = true`, and on a variable, are board errors.
    let bad = BOARD.replace(
        r#"Fixed = { handler = "mem", key = "fixed" }"#,
        r#"Fixed = { handler = "mem", key = "fixed", set = { handler = "mem", key = "conf" } }"#,
    );
    let (_d2, path) = temp_board(&bad);
    let b = board::parse(&path).unwrap();
    let errors = board::validate(&b, &schema(), &registry(&log));
    assert!(
        errors.iter().any(|e| e.message.contains("without `write")),
        "{errors:?}"
    );
    let var = BOARD.replace(
        r#"Key = { handler = "var", name = "row" }"#,
        r#"Key = { handler = "var", name = "row", set = { handler = "mem", key = "k" } }"#,
    );
    let (_d3, path) = temp_board(&var);
    assert!(board::parse(&path).is_err());
}
