//! Ledger throughput: appends per second with an fsync per entry and with
//! batched commits, and proof generation and verification time on a large
//! log. `GANTRY_BENCH_ENTRIES=1000000 cargo bench -p gantry-ledger` for the
//! million-entry run (default 20,000).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Instant;

use gantry_ledger::Ledger;

fn main() {
    let n: u64 = std::env::var("GANTRY_BENCH_ENTRIES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000);
    let dir = tempfile::tempdir().unwrap();
    let ledger = Ledger::create_or_open(dir.path()).unwrap();
    let entry = |i: u64| {
        format!(
            "{{\"kind\":\"bench\",\"seq\":{i},\"pad\":\"{}\"}}",
            "x".repeat(200)
        )
        .into_bytes()
    };

    let single = 200u64;
    let t = Instant::now();
    for i in 0..single {
        ledger.append(&entry(i)).unwrap();
    }
    let per_entry = single as f64 / t.elapsed().as_secs_f64();

    let batch = 1000usize;
    let t = Instant::now();
    let mut done = single;
    while done < n {
        let k = batch.min((n - done) as usize);
        let items: Vec<Vec<u8>> = (0..k as u64).map(|i| entry(done + i)).collect();
        let refs: Vec<&[u8]> = items.iter().map(Vec::as_slice).collect();
        ledger.append_batch(&refs).unwrap();
        done += k as u64;
    }
    let batched = (done - single) as f64 / t.elapsed().as_secs_f64();
    println!("appends/s, fsync per entry:       {per_entry:>12.0}");
    println!(
        "appends/s, batches of {batch}:       {batched:>12.0}  ({:.1}x)",
        batched / per_entry
    );

    let s = ledger.snapshot().unwrap();
    let size = s.size();
    let root = s.root(size).unwrap();
    let rounds = 1000u64;
    let t = Instant::now();
    let mut proofs = Vec::new();
    for r in 0..rounds {
        let i = (r * 7919) % size;
        proofs.push((
            i,
            s.entry(i).unwrap().1,
            s.inclusion_proof(i, size).unwrap(),
        ));
    }
    let gen_us = t.elapsed().as_secs_f64() * 1e6 / rounds as f64;
    let t = Instant::now();
    for (i, leaf, p) in &proofs {
        let p: Vec<Vec<u8>> = p.iter().map(|h| h.to_vec()).collect();
        gantry_ledger::verify::verify_inclusion(*i, size, leaf, &p, &root).unwrap();
    }
    let ver_us = t.elapsed().as_secs_f64() * 1e6 / rounds as f64;
    let t = Instant::now();
    let c = s.consistency_proof(size / 3, size).unwrap();
    let cons_us = t.elapsed().as_secs_f64() * 1e6;
    println!(
        "entries: {size}; inclusion proof ({} hashes): generate {gen_us:.1} us, verify {ver_us:.1} us",
        proofs[0].2.len()
    );
    println!(
        "consistency proof {}..{size} ({} hashes): generate {cons_us:.1} us",
        size / 3,
        c.len()
    );
}
