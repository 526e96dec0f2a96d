//! The fuzz target without libFuzzer, for toolchains where `cargo fuzz`
//! does not work (stable; no sanitizer coverage): runs the program in each
//! file named on the command line (directories are walked one level deep,
//! e.g. a corpus), or the one on stdin if none is named, and exits non-zero
//! at the first failure. Also `--random N` runs N programs of random bytes
//! (seeded by `--seed S`, default the clock).
//!
//! `cargo run --release --features plain --bin api_model_plain -- corpus/api_model`

#[path = "../../tests/common/api_ops.rs"]
mod api_ops;

use std::io::Read;

fn run(name: &str, bytes: &[u8]) {
    let ops = api_ops::decode(bytes);
    if let Err(e) = api_ops::run_program(&ops, api_ops::Families::from_env()) {
        eprintln!(
            "api_model_plain: {name} fails: {e}\n  program: {ops:?}\n  replay: API_MODEL_REPLAY={}",
            api_ops::to_hex(&api_ops::encode(&ops))
        );
        std::process::exit(1);
    }
}

fn main() {
    api_ops::init_env();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut files = Vec::new();
    let mut random = None;
    let mut seed = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--random" => random = it.next().and_then(|n| n.parse::<u64>().ok()),
            "--seed" => seed = it.next().and_then(|n| n.parse().ok()).expect("--seed N"),
            p => {
                let path = std::path::Path::new(p);
                if path.is_dir() {
                    let mut entries: Vec<_> = std::fs::read_dir(path).unwrap().flatten().map(|e| e.path()).collect();
                    entries.sort();
                    files.extend(entries.into_iter().filter(|p| p.is_file()));
                } else {
                    files.push(path.to_path_buf());
                }
            }
        }
    }
    if let Some(n) = random {
        eprintln!("api_model_plain: {n} random programs, --seed {seed}");
        let mut s = seed | 1;
        for i in 0..n {
            let mut next = || {
                s ^= s << 13;
                s ^= s >> 7;
                s ^= s << 17;
                s
            };
            let len = (next() % 400) as usize;
            let bytes: Vec<u8> = (0..len).map(|_| next() as u8).collect();
            run(&format!("random program {i}"), &bytes);
        }
        eprintln!("api_model_plain: {n} random programs passed");
    } else if files.is_empty() {
        let mut bytes = Vec::new();
        std::io::stdin().read_to_end(&mut bytes).unwrap();
        run("stdin", &bytes);
    }
    for f in &files {
        run(&f.display().to_string(), &std::fs::read(f).unwrap());
    }
    if !files.is_empty() {
        eprintln!("api_model_plain: {} file(s) passed", files.len());
    }
}
