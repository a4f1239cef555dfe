//! The gate: a control directory shared by the test and every process that loaded the module.
//!
//! For each gated function `F` (`C_Sign`, `C_SignFinal`, `C_Decrypt`, `C_Login`):
//!
//! | file | written by | meaning |
//! |---|---|---|
//! | `F.arrived` | the module | calls that reached the gate so far (their tickets are 1, 2, …) |
//! | `F.done` | the module | calls that came back from the real module |
//! | `F.open` | the test | a call with ticket `n` goes on once `n <= open`; `all` or no file: every call goes on |
//!
//! Tickets are numbered across processes (a host killed and started again goes on counting),
//! so a test reads `F.arrived` first and opens relative to it: "let 20 more through, hold the
//! 21st" is `open = arrived + 20`, then waiting for `arrived >= open + 1` is the known point
//! where the 21st call is held before the real module saw it. Files are replaced by rename,
//! so a reader never sees half a number.
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::thread;
use std::time::Duration;

/// The functions that can be held.
pub const FUNCTIONS: [&str; 4] = ["C_Sign", "C_SignFinal", "C_Decrypt", "C_Login"];

/// How often a held call reads `F.open` again.
const POLL: Duration = Duration::from_millis(5);

/// One process's view of the control directory.
#[derive(Debug)]
pub struct Gate {
    dir: PathBuf,
    /// Threads of one process take tickets one at a time (the file lock is per open file).
    tickets: Mutex<()>,
}

/// What `F.open` says.
#[derive(Debug, PartialEq, Eq)]
pub enum Open {
    All,
    Upto(u64),
}

impl Gate {
    pub fn new(dir: impl Into<PathBuf>) -> Gate {
        Gate { dir: dir.into(), tickets: Mutex::new(()) }
    }

    /// Takes the next ticket for `function` and returns once `F.open` lets it through.
    pub fn pass(&self, function: &str) -> io::Result<u64> {
        let ticket = self.bump(function, "arrived")?;
        let mut complained = false;
        loop {
            match open(&self.dir, function) {
                Ok(Open::All) => return Ok(ticket),
                Ok(Open::Upto(n)) if ticket <= n => return Ok(ticket),
                Ok(Open::Upto(_)) => {}
                // A bad control file holds the call (the test may fix it) and says why, once.
                Err(e) if !complained => {
                    complained = true;
                    eprintln!("paraphe-pkcs11-gate: {function} ticket {ticket} held: {e}");
                }
                Err(_) => {}
            }
            thread::sleep(POLL);
        }
    }

    /// Counts a call that came back from the real module.
    pub fn done(&self, function: &str) -> io::Result<u64> {
        self.bump(function, "done")
    }

    fn bump(&self, function: &str, counter: &str) -> io::Result<u64> {
        let _turn = self.tickets.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(self.dir.join(format!("{function}.lock")))?;
        // Across processes: two hosts at once (a browser's second port) take distinct tickets.
        lock.lock()?;
        let next = count(&self.dir, function, counter)? + 1;
        write_atomically(&self.dir.join(format!("{function}.{counter}")), &next.to_string())?;
        Ok(next)
    }
}

/// `F.arrived` or `F.done` (0 before the first call).
pub fn count(dir: &Path, function: &str, counter: &str) -> io::Result<u64> {
    let file = dir.join(format!("{function}.{counter}"));
    match fs::read_to_string(&file) {
        Ok(text) => text.trim().parse().map_err(|_| bad(&file, &text)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(0),
        Err(e) => Err(e),
    }
}

/// `F.open`: no file means open.
pub fn open(dir: &Path, function: &str) -> io::Result<Open> {
    let file = dir.join(format!("{function}.open"));
    match fs::read_to_string(&file) {
        Ok(text) if text.trim() == "all" => Ok(Open::All),
        Ok(text) => text.trim().parse().map(Open::Upto).map_err(|_| bad(&file, &text)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Open::All),
        Err(e) => Err(e),
    }
}

/// Sets `F.open` (what a test does).
pub fn set_open(dir: &Path, function: &str, to: &Open) -> io::Result<()> {
    let text = match to {
        Open::All => "all".to_owned(),
        Open::Upto(n) => n.to_string(),
    };
    write_atomically(&dir.join(format!("{function}.open")), &text)
}

fn bad(file: &Path, text: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("{}: expected a number or \"all\", found {:?}", file.display(), text.trim()),
    )
}

fn write_atomically(file: &Path, text: &str) -> io::Result<()> {
    let tmp = file.with_extension(format!("tmp-{}", std::process::id()));
    let mut f = File::create(&tmp)?;
    f.write_all(text.as_bytes())?;
    drop(f);
    fs::rename(&tmp, file)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;

    fn dir(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("paraphe-gate-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        fs::create_dir_all(&d).unwrap();
        d
    }

    /// Waits (no deadline: the test harness's own timeout guards a hang) for `F.arrived >= n`.
    fn until_arrived(dir: &Path, function: &str, n: u64) {
        while count(dir, function, "arrived").unwrap() < n {
            thread::sleep(POLL);
        }
    }

    /// Runs `gate.pass(F)` in a thread that records whether `released` was already set when it
    /// got through: a gate that let it through early is caught without any timing.
    fn held_call(
        gate: &Arc<Gate>,
        function: &'static str,
        released: &Arc<AtomicBool>,
    ) -> thread::JoinHandle<(u64, bool)> {
        let (gate, released) = (Arc::clone(gate), Arc::clone(released));
        thread::spawn(move || {
            let ticket = gate.pass(function).unwrap();
            (ticket, released.load(Ordering::SeqCst))
        })
    }

    #[test]
    fn with_no_control_file_every_call_goes_on_and_is_counted() {
        let d = dir("open");
        let gate = Gate::new(&d);
        assert_eq!(gate.pass("C_Sign").unwrap(), 1);
        assert_eq!(gate.pass("C_Sign").unwrap(), 2);
        assert_eq!(gate.done("C_Sign").unwrap(), 1);
        assert_eq!(count(&d, "C_Sign", "arrived").unwrap(), 2);
        assert_eq!(count(&d, "C_Login", "arrived").unwrap(), 0, "each function counts on its own");
        fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn holds_the_call_after_the_open_count_until_released() {
        let d = dir("hold");
        let gate = Arc::new(Gate::new(&d));
        set_open(&d, "C_Sign", &Open::Upto(1)).unwrap();
        assert_eq!(gate.pass("C_Sign").unwrap(), 1, "the first goes on");
        let released = Arc::new(AtomicBool::new(false));
        let second = held_call(&gate, "C_Sign", &released);
        until_arrived(&d, "C_Sign", 2);
        // Other functions are not held by C_Sign's gate.
        assert_eq!(gate.pass("C_Login").unwrap(), 1);
        released.store(true, Ordering::SeqCst);
        set_open(&d, "C_Sign", &Open::Upto(2)).unwrap();
        assert_eq!(second.join().unwrap(), (2, true), "the second went on only once released");
        fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn all_releases_every_held_call_and_a_bad_file_holds() {
        let d = dir("all");
        let gate = Arc::new(Gate::new(&d));
        fs::write(d.join("C_Decrypt.open"), "soon").unwrap();
        assert!(open(&d, "C_Decrypt").unwrap_err().to_string().contains("expected a number"));
        let released = Arc::new(AtomicBool::new(false));
        let calls: Vec<_> = (0..3).map(|_| held_call(&gate, "C_Decrypt", &released)).collect();
        until_arrived(&d, "C_Decrypt", 3);
        released.store(true, Ordering::SeqCst);
        set_open(&d, "C_Decrypt", &Open::All).unwrap();
        let mut tickets: Vec<_> = calls.into_iter().map(|c| c.join().unwrap()).collect();
        tickets.sort_unstable();
        assert_eq!(tickets, [(1, true), (2, true), (3, true)]);
        fs::remove_dir_all(&d).unwrap();
    }
}
