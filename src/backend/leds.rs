//! `leds`: the kernel's LEDs in `/sys/class/leds` (TR-181 `LEDs.LED.{i}.`), read only.
//!
//! Each directory there is one LED: `brightness` of `max_brightness`, and `trigger`, the list
//! of triggers with the active one in brackets (`none [netdev] timer`). The LED's colour is
//! the one its name gives (the kernel's naming, `[device:]color:function`; OpenWrt's UCI
//! `system` `led` sections name the same directories in their `sysfs` option). A LED that
//! blinks by itself runs the `timer` trigger: its cycle is two elements, lit for `delay_on`
//! then dark for `delay_off` milliseconds, repeated until the trigger changes (TR-181
//! `CyclePeriodRepetitions` -1). Other triggers (`netdev`, `phy0tpt`, `default-on`) follow an
//! event, not a cycle: such a LED has no cycle elements.
//!
//! Where the LED sits on the case (`Location`, `RelativeXPosition`…) sysfs does not say; a
//! board for a given device binds those as constants.
//!
//! Bindings: table `instances = { handler = "leds" }` (key and vars `led`, `name`: the
//! directory; `current`: the key of the cycle element now shown, empty without a cycle),
//! `instances = { handler = "leds", led = "{led}" }` (the cycle elements: keys `1`, `2`), and
//! values `led`, `field` = `status` | `reason` | `repetitions` | `color` | `duration`
//! (these two with `element`) | `current_color` | `current_duration`.

use std::path::PathBuf;

use crate::backend::{Args, ArgsError, BackendError, BindingKind, Handler, Instance};
use crate::codec::toml;

/// Most LEDs listed.
pub const MAX_LEDS: usize = 256;
/// Largest sysfs attribute read (a `trigger` list is a few hundred bytes).
const MAX_ATTR: u64 = 16 << 10;

const FIELDS: [&str; 7] = [
    "status",
    "reason",
    "repetitions",
    "color",
    "duration",
    "current_color",
    "current_duration",
];

/// The colours the kernel names (include/dt-bindings/leds/common.h) that are one RGB colour,
/// as TR-181 hexBinary `RRGGBB`. `ir`, `multicolor` and `rgb` are none.
const COLORS: [(&str, &str); 12] = [
    ("white", "FFFFFF"),
    ("red", "FF0000"),
    ("green", "00FF00"),
    ("blue", "0000FF"),
    ("amber", "FFBF00"),
    ("violet", "7F00FF"),
    ("yellow", "FFFF00"),
    ("purple", "800080"),
    ("orange", "FFA500"),
    ("pink", "FFC0CB"),
    ("cyan", "00FFFF"),
    ("lime", "00FF00"),
];

/// The leds handler.
pub struct Leds {
    dir: PathBuf,
}

/// What one LED shows now.
struct State {
    brightness: u64,
    max: u64,
    trigger: String,
}

impl Leds {
    /// A handler over `<sys>/class/leds` (`[handlers.leds] sys`, default `/sys`).
    pub fn new(settings: Option<&toml::Value>) -> Result<Leds, ArgsError> {
        let mut sys = PathBuf::from("/sys");
        if let Some(t) = settings {
            let t = t
                .as_table()
                .ok_or(ArgsError::Settings("handlers.leds must be a table".into()))?;
            for (k, v) in t {
                match (k.as_str(), v.as_str()) {
                    ("sys", Some(s)) => sys = PathBuf::from(s),
                    _ => {
                        return Err(ArgsError::Settings(format!(
                            "handlers.leds.{k}: unknown or not a string"
                        )))
                    }
                }
            }
        }
        Ok(Leds {
            dir: sys.join("class/leds"),
        })
    }

    fn attr(&self, led: &str, name: &str) -> Result<String, BackendError> {
        if led.is_empty() || led.contains('/') || led == "." || led == ".." {
            return Err(BackendError::BadArgs(format!("{led:?} is not a LED name")));
        }
        let path = self.dir.join(led).join(name);
        let file = std::fs::File::open(&path)
            .map_err(|e| BackendError::NotFound(format!("{}: {e}", path.display())))?;
        let mut text = String::new();
        std::io::Read::read_to_string(&mut std::io::Read::take(file, MAX_ATTR), &mut text)
            .map_err(|e| BackendError::Io(format!("{}: {e}", path.display())))?;
        Ok(text.trim().to_string())
    }

    fn number(&self, led: &str, name: &str) -> Result<u64, BackendError> {
        let t = self.attr(led, name)?;
        t.parse()
            .map_err(|_| BackendError::InvalidValue(format!("{led}/{name}: {t:?} is not a number")))
    }

    fn state(&self, led: &str) -> Result<State, BackendError> {
        Ok(State {
            brightness: self.number(led, "brightness")?,
            max: self.number(led, "max_brightness")?,
            trigger: active_trigger(&self.attr(led, "trigger")?),
        })
    }

    /// The key of the cycle element shown now (`1` lit, `2` dark), `None` without a cycle.
    fn current(&self, led: &str) -> Result<Option<&'static str>, BackendError> {
        let s = self.state(led)?;
        Ok((s.trigger == "timer").then_some(if s.brightness > 0 { "1" } else { "2" }))
    }

    fn delay(&self, led: &str, element: &str) -> Result<String, BackendError> {
        let name = match element {
            "1" => "delay_on",
            "2" => "delay_off",
            e => return Err(BackendError::NotFound(format!("cycle element {e:?}"))),
        };
        Ok(self.number(led, name)?.to_string())
    }

    fn led_names(&self) -> Result<Vec<String>, BackendError> {
        let rd = match std::fs::read_dir(&self.dir) {
            Ok(rd) => rd,
            // No LED class (a VM, a server): no LEDs.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(BackendError::Io(format!("{}: {e}", self.dir.display()))),
        };
        let mut names: Vec<String> = rd
            .flatten()
            .filter_map(|e| e.file_name().into_string().ok())
            .filter(|n| !n.starts_with('.'))
            .collect();
        if names.len() > MAX_LEDS {
            return Err(BackendError::Limit(format!(
                "{} LEDs in {}, at most {MAX_LEDS}",
                names.len(),
                self.dir.display()
            )));
        }
        names.sort();
        Ok(names)
    }
}

/// The bracketed word of a sysfs `trigger` list (`none` when none is marked).
fn active_trigger(list: &str) -> String {
    list.split_whitespace()
        .find_map(|w| w.strip_prefix('[').and_then(|w| w.strip_suffix(']')))
        .unwrap_or("none")
        .to_string()
}

/// The RGB colour of a LED by its name (`white:wan`, `tp-link:green:wps`), if it names one.
fn color_of(led: &str) -> Option<&'static str> {
    let parts: Vec<&str> = led.split(':').collect();
    let word = match parts.as_slice() {
        [_, c, _, ..] | [c, _] => *c,
        _ => return None,
    };
    COLORS.iter().find(|(n, _)| *n == word).map(|(_, rgb)| *rgb)
}

/// `rgb` (`RRGGBB`) at `brightness` of `max`, each component scaled.
fn dimmed(rgb: &str, brightness: u64, max: u64) -> String {
    if max == 0 {
        return "000000".into();
    }
    let b = brightness.min(max);
    (0..3)
        .map(|i| {
            let c = rgb
                .get(i * 2..i * 2 + 2)
                .and_then(|h| u64::from_str_radix(h, 16).ok())
                .unwrap_or(0);
            format!("{:02X}", c * b / max)
        })
        .collect()
}

impl Handler for Leds {
    fn check(&self, kind: BindingKind, args: &toml::Table) -> Result<(), ArgsError> {
        let allowed: &[&str] = match kind {
            BindingKind::Table => &["led"],
            BindingKind::Read => &["led", "field", "element"],
            BindingKind::ReadWrite => return Err("LEDs are read only here".into()),
        };
        ArgsError::only(args, allowed)?;
        for (k, v) in args {
            if !v.is_str() {
                return Err(format!("`{k}` must be a string").into());
            }
        }
        if kind == BindingKind::Read {
            let field = args
                .get("field")
                .and_then(|v| v.as_str())
                .ok_or("`field` (a string) is required")?;
            if !FIELDS.contains(&field) {
                return Err(
                    format!("unknown `field` {field:?}; one of {}", FIELDS.join(", ")).into(),
                );
            }
            if !args.contains_key("led") {
                return Err("`led` is required".into());
            }
            let needs_element = matches!(field, "color" | "duration");
            if needs_element != args.contains_key("element") {
                return Err("`element` goes with `color` and `duration`, and only them".into());
            }
        }
        Ok(())
    }

    fn get(&mut self, args: &Args) -> Result<String, BackendError> {
        let led = args.str("led")?;
        match args.str("field")? {
            // TR-181 Status: Disabled when nothing drives the LED and it is dark.
            "status" => {
                let s = self.state(led)?;
                Ok(if s.trigger == "none" && s.brightness == 0 {
                    "Disabled"
                } else {
                    "InUse"
                }
                .into())
            }
            // What drives the LED: the kernel trigger in charge of it.
            "reason" => Ok(self.state(led)?.trigger),
            "repetitions" => Ok(if self.current(led)?.is_some() {
                "-1"
            } else {
                "0"
            }
            .into()),
            "color" => {
                let rgb = color_of(led)
                    .ok_or_else(|| BackendError::NotFound(format!("the colour of {led}")))?;
                self.delay(led, args.str("element")?)?;
                Ok(match args.str("element")? {
                    "1" => rgb.to_string(),
                    _ => "000000".into(),
                })
            }
            "duration" => self.delay(led, args.str("element")?),
            "current_color" => {
                let rgb = color_of(led)
                    .ok_or_else(|| BackendError::NotFound(format!("the colour of {led}")))?;
                let s = self.state(led)?;
                Ok(dimmed(rgb, s.brightness, s.max))
            }
            "current_duration" => match self.current(led)? {
                Some(e) => self.delay(led, e),
                None => Err(BackendError::NotFound(format!("{led} has no cycle"))),
            },
            other => Err(BackendError::BadArgs(format!("unknown field {other:?}"))),
        }
    }

    fn instances(&mut self, args: &Args) -> Result<Vec<Instance>, BackendError> {
        match args.opt_str("led")? {
            None => self
                .led_names()?
                .into_iter()
                .map(|n| {
                    let current = self.current(&n).ok().flatten().unwrap_or("");
                    Ok(Instance::new(n.clone())
                        .var("led", n.clone())
                        .var("name", n)
                        .var("current", current))
                })
                .collect(),
            Some(led) => Ok(match self.current(led) {
                Ok(Some(_)) => vec![Instance::new("1"), Instance::new("2")],
                _ => Vec::new(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(tag: &str) -> (PathBuf, Leds) {
        let root = std::env::temp_dir().join(format!("cwmpd-leds-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        let led = |name: &str, files: &[(&str, &str)]| {
            let d = root.join("class/leds").join(name);
            std::fs::create_dir_all(&d).unwrap();
            for (f, v) in files {
                std::fs::write(d.join(f), format!("{v}\n")).unwrap();
            }
        };
        led(
            "white:wan",
            &[
                ("brightness", "128"),
                ("max_brightness", "255"),
                ("trigger", "none timer [netdev]"),
            ],
        );
        led(
            "green:power",
            &[
                ("brightness", "1"),
                ("max_brightness", "1"),
                ("trigger", "none [timer] netdev"),
                ("delay_on", "500"),
                ("delay_off", "1500"),
            ],
        );
        led(
            "mt76-phy0",
            &[
                ("brightness", "0"),
                ("max_brightness", "1"),
                ("trigger", "[none] timer"),
            ],
        );
        let t = toml::from_str(&format!("sys = \"{}\"", root.display())).unwrap();
        let leds = Leds::new(Some(&toml::Value::Table(t))).unwrap();
        (root, leds)
    }

    fn a(text: &str) -> Args {
        Args {
            table: toml::from_str(text).unwrap(),
            path: String::new(),
        }
    }

    #[test]
    fn leds_and_their_cycles_from_sysfs() {
        let (root, mut l) = tree("values");
        let rows = l.instances(&a("")).unwrap();
        let keys: Vec<&str> = rows.iter().map(|r| r.key.as_str()).collect();
        assert_eq!(keys, ["green:power", "mt76-phy0", "white:wan"]);
        assert_eq!(rows[0].vars["current"], "1");
        assert_eq!(rows[2].vars["current"], "");
        let get = |l: &mut Leds, t: &str| l.get(&a(t));
        assert_eq!(
            get(&mut l, "led = \"white:wan\"\nfield = \"status\"").unwrap(),
            "InUse"
        );
        assert_eq!(
            get(&mut l, "led = \"mt76-phy0\"\nfield = \"status\"").unwrap(),
            "Disabled"
        );
        assert_eq!(
            get(&mut l, "led = \"white:wan\"\nfield = \"reason\"").unwrap(),
            "netdev"
        );
        assert_eq!(
            get(&mut l, "led = \"white:wan\"\nfield = \"repetitions\"").unwrap(),
            "0"
        );
        assert_eq!(
            get(&mut l, "led = \"green:power\"\nfield = \"repetitions\"").unwrap(),
            "-1"
        );
        assert_eq!(
            get(&mut l, "led = \"white:wan\"\nfield = \"current_color\"").unwrap(),
            "808080"
        );
        assert!(matches!(
            get(&mut l, "led = \"mt76-phy0\"\nfield = \"current_color\""),
            Err(BackendError::NotFound(_))
        ));
        assert!(matches!(
            get(&mut l, "led = \"white:wan\"\nfield = \"current_duration\""),
            Err(BackendError::NotFound(_))
        ));
        let cycle = l.instances(&a("led = \"green:power\"")).unwrap();
        assert_eq!(cycle.len(), 2);
        assert!(l.instances(&a("led = \"white:wan\"")).unwrap().is_empty());
        let el =
            |e: &str, f: &str| format!("led = \"green:power\"\nfield = \"{f}\"\nelement = \"{e}\"");
        assert_eq!(get(&mut l, &el("1", "color")).unwrap(), "00FF00");
        assert_eq!(get(&mut l, &el("2", "color")).unwrap(), "000000");
        assert_eq!(get(&mut l, &el("1", "duration")).unwrap(), "500");
        assert_eq!(get(&mut l, &el("2", "duration")).unwrap(), "1500");
        assert_eq!(
            get(
                &mut l,
                "led = \"green:power\"\nfield = \"current_duration\""
            )
            .unwrap(),
            "500"
        );
        std::fs::remove_dir_all(root).unwrap();
    }

    #[test]
    fn bad_files_and_names_are_errors_not_panics() {
        let (root, mut l) = tree("bad");
        std::fs::write(root.join("class/leds/white:wan/brightness"), "lots\n").unwrap();
        assert!(matches!(
            l.get(&a("led = \"white:wan\"\nfield = \"status\"")),
            Err(BackendError::InvalidValue(_))
        ));
        assert!(matches!(
            l.get(&a("led = \"../x\"\nfield = \"status\"")),
            Err(BackendError::BadArgs(_))
        ));
        assert!(matches!(
            l.get(&a("led = \"gone\"\nfield = \"reason\"")),
            Err(BackendError::NotFound(_))
        ));
        std::fs::remove_dir_all(&root).unwrap();
        assert!(l.instances(&a("")).unwrap().is_empty());
    }

    #[test]
    fn more_leds_than_the_limit_are_refused() {
        let (root, mut l) = tree("many");
        for i in 0..MAX_LEDS {
            std::fs::create_dir_all(root.join(format!("class/leds/led{i}"))).unwrap();
        }
        assert!(matches!(l.instances(&a("")), Err(BackendError::Limit(_))));
        std::fs::remove_dir_all(root).unwrap();
    }

    #[test]
    fn names_give_colours_and_brightness_dims_them() {
        assert_eq!(color_of("white:wan"), Some("FFFFFF"));
        assert_eq!(color_of("tp-link:blue:wps"), Some("0000FF"));
        assert_eq!(color_of("mt76-phy0"), None);
        assert_eq!(color_of("ir:tx"), None);
        assert_eq!(dimmed("FFBF00", 1, 2), "7F5F00");
        assert_eq!(dimmed("FFFFFF", 9, 0), "000000");
        assert_eq!(active_trigger("none [default-on] timer"), "default-on");
        assert_eq!(active_trigger(""), "none");
    }

    #[test]
    fn arguments_are_checked() {
        let (root, l) = tree("check");
        let t = |s: &str| toml::from_str(s).unwrap();
        assert!(l.check(BindingKind::Table, &t("")).is_ok());
        assert!(l
            .check(BindingKind::Read, &t("led = \"x\"\nfield = \"status\""))
            .is_ok());
        assert!(l
            .check(BindingKind::Read, &t("led = \"x\"\nfield = \"color\""))
            .is_err());
        assert!(l
            .check(BindingKind::Read, &t("led = \"x\"\nfield = \"nope\""))
            .is_err());
        assert!(l
            .check(
                BindingKind::ReadWrite,
                &t("led = \"x\"\nfield = \"status\"")
            )
            .is_err());
        assert!(l.check(BindingKind::Table, &t("sys = \"x\"")).is_err());
        std::fs::remove_dir_all(root).unwrap();
    }
}
