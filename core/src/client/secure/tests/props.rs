//! The property test: arbitrary loss, duplication, reordering, injection, forgetting and
//! restarts never open a datagram twice or one the other side did not seal, and a loss-free
//! network at the end carries messages again (see `chaos.rs`).

use proptest::prelude::*;

use super::super::chaos::{run, Op};

fn op() -> impl Strategy<Value = Op> {
    let pick = any::<u16>();
    prop_oneof![
        4 => (any::<bool>(), 0u16..200).prop_map(|(side, len)| Op::Seal { side, len }),
        6 => pick.prop_map(|pick| Op::Deliver { pick }),
        1 => pick.prop_map(|pick| Op::Duplicate { pick }),
        2 => pick.prop_map(|pick| Op::Lose { pick }),
        1 => (pick, any::<bool>()).prop_map(|(pick, side)| Op::Replay { pick, side }),
        1 => (pick, any::<bool>(), any::<u16>(), any::<u8>())
            .prop_map(|(pick, side, at, xor)| Op::Tamper { pick, side, at, xor }),
        1 => (pick, any::<bool>(), any::<u16>())
            .prop_map(|(pick, side, len)| Op::Truncate { pick, side, len }),
        2 => prop_oneof![0u16..400, 0u16..10_000, Just(60_000)].prop_map(|ms| Op::Tick { ms }),
        1 => (any::<bool>(), proptest::collection::vec(any::<u8>(), 0..200))
            .prop_map(|(side, data)| Op::Garbage { side, data }),
        1 => any::<bool>().prop_map(|side| Op::Forget { side }),
        1 => any::<bool>().prop_map(|side| Op::Restart { side }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn nothing_opens_twice_or_unsealed_and_a_clean_network_carries_again(
        ops in proptest::collection::vec(op(), 0..120)
    ) {
        run(std::time::Instant::now(), &ops);
    }
}
