//! The built module in front of SoftHSM, loaded by cryptoki as the host loads it: everything
//! is forwarded (login, listing, signatures that openssl verifies), and a C_Sign past the open
//! count waits at the gate until the test releases it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::mechanism::Mechanism;
use cryptoki::object::{Attribute, ObjectClass};
use cryptoki::session::UserType;
use cryptoki::types::AuthPin;
use paraphe_pkcs11_gate::gate::{count, set_open, Open};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../..")
}

/// The cdylib cargo built beside this test binary (target/debug/deps or target/debug).
fn gate_module() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let deps = exe.parent().unwrap();
    [deps.to_path_buf(), deps.parent().unwrap().to_path_buf()]
        .iter()
        .map(|d| d.join("libparaphe_pkcs11_gate.so"))
        .find(|p| p.exists())
        .expect("libparaphe_pkcs11_gate.so next to the test binary")
}

fn softhsm() -> &'static str {
    ["/usr/lib/softhsm/libsofthsm2.so", "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so"]
        .into_iter()
        .find(|p| Path::new(p).exists())
        .expect("SoftHSM2 is not installed: run scripts/setup.sh")
}

fn wait_arrived(dir: &Path, function: &str, n: u64) {
    while count(dir, function, "arrived").unwrap() < n {
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
}

#[test]
fn forwards_to_softhsm_and_holds_the_signature_past_the_open_count() {
    let tmp = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("pkcs11-gate-{}", std::process::id()));
    let kit = tmp.join("kit");
    let control = tmp.join("gate");
    std::fs::create_dir_all(&control).unwrap();
    let out = Command::new("bash").arg(repo().join("tests/kit/make-token.sh")).arg(&kit).output().unwrap();
    assert!(out.status.success(), "make-token.sh: {}", String::from_utf8_lossy(&out.stderr));
    // The only test of this binary: nothing else reads the environment meanwhile.
    std::env::set_var("SOFTHSM2_CONF", kit.join("softhsm2.conf"));
    std::env::set_var("PARAPHE_GATE_MODULE", softhsm());
    std::env::set_var("PARAPHE_GATE_DIR", &control);

    let ctx = Pkcs11::new(gate_module()).unwrap();
    ctx.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK)).unwrap();
    assert!(ctx.get_library_info().unwrap().manufacturer_id().contains("SoftHSM"), "C_GetInfo is SoftHSM's");
    let slot = ctx
        .get_slots_with_token()
        .unwrap()
        .into_iter()
        .find(|s| ctx.get_token_info(*s).map(|t| t.label() == "Paraphe Demo").unwrap_or(false))
        .expect("the demo token");
    let session = ctx.open_ro_session(slot).unwrap();
    session.login(UserType::User, Some(&AuthPin::from("1234".to_owned()))).unwrap();
    assert_eq!(count(&control, "C_Login", "arrived").unwrap(), 1, "C_Login went through the gate");
    let key =
        session.find_objects(&[Attribute::Class(ObjectClass::PRIVATE_KEY), Attribute::Id(vec![0x01])]).unwrap()[0];

    // sha256WithRSAEncryption's DigestInfo over a digest, signed with CKM_RSA_PKCS.
    let digest = [0x5au8; 32];
    let mut digest_info = vec![
        0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04,
        0x20,
    ];
    digest_info.extend_from_slice(&digest);
    let verifies = |signature: &[u8], name: &str| {
        let (sig, data) = (tmp.join(format!("{name}.sig")), tmp.join(format!("{name}.digest")));
        std::fs::write(&sig, signature).unwrap();
        std::fs::write(&data, digest).unwrap();
        let out = Command::new("openssl")
            .args(["pkeyutl", "-verify", "-pubin", "-inkey"])
            .arg(kit.join("pki/01.pub.pem"))
            .args(["-pkeyopt", "digest:sha256", "-in"])
            .arg(&data)
            .arg("-sigfile")
            .arg(&sig)
            .output()
            .unwrap();
        out.status.success()
    };

    // No control file: the signature goes through; the length query took no ticket.
    let first = session.sign(&Mechanism::RsaPkcs, key, &digest_info).unwrap();
    assert!(verifies(&first, "first"));
    assert_eq!(count(&control, "C_Sign", "arrived").unwrap(), 1);
    assert_eq!(count(&control, "C_Sign", "done").unwrap(), 1);

    // Open up to 1 (the one made): the next is held until released.
    set_open(&control, "C_Sign", &Open::Upto(1)).unwrap();
    let released = Arc::new(AtomicBool::new(false));
    let held = {
        let released = Arc::clone(&released);
        std::thread::spawn(move || {
            let signature = session.sign(&Mechanism::RsaPkcs, key, &digest_info).unwrap();
            (signature, released.load(Ordering::SeqCst))
        })
    };
    wait_arrived(&control, "C_Sign", 2);
    assert_eq!(count(&control, "C_Sign", "done").unwrap(), 1, "held before SoftHSM saw it");
    released.store(true, Ordering::SeqCst);
    set_open(&control, "C_Sign", &Open::Upto(2)).unwrap();
    let (second, after_release) = held.join().unwrap();
    assert!(after_release, "the held signature came back only after it was released");
    assert!(verifies(&second, "second"));
    assert_eq!(count(&control, "C_Sign", "done").unwrap(), 2);
    let _ = std::fs::remove_dir_all(&tmp);
}
