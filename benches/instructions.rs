//! Fixed-count loops for `valgrind --tool=callgrind`, whose instruction
//! counts do not depend on the machine's load (`benches/instructions.sh`
//! runs them and prints instructions per call).
//!
//! `instructions WHAT PARAMS CALLS` runs WHAT — `verify`, `raw` (HMAC-SHA1
//! keyed per call), `prekeyed` (HMAC-SHA1 from a state keyed once) or
//! `user` (`get_current_user` on a `MemoryStore`, 2 parameters only, the
//! requests signed before the loop) or `sign` (only that signing, to be
//! subtracted from `user`) — on the fixture with PARAMS query parameters,
//! CALLS times.

mod fixture;

use std::hint::black_box;

use fixture::{Fixture, UserBench};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    // `cargo bench` / `cargo test --benches` run every bench binary with
    // their own flags: nothing to do then.
    let [_, what, params, calls] = args.as_slice() else {
        return;
    };
    let (Ok(params), Ok(calls)) = (params.parse(), calls.parse::<u64>()) else {
        return;
    };
    let fixture = Fixture::new(params);
    if what == "user" || what == "sign" {
        let user = UserBench::new();
        let headers = user.sign(u32::try_from(calls).expect("fewer calls"));
        if what == "user" {
            for header in &headers {
                user.get_current_user(header);
            }
        }
        return;
    }
    for _ in 0..calls {
        match what.as_str() {
            "verify" => assert!(black_box(&fixture).verify()),
            "raw" => {
                black_box(black_box(&fixture).raw_hmac());
            }
            "prekeyed" => {
                black_box(black_box(&fixture).raw_hmac_prekeyed());
            }
            other => panic!("unknown {other:?}"),
        }
    }
}
