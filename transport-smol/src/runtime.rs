//! The executor every task of this crate runs on: one per process, with a worker thread per core,
//! so the sockets' tasks run beside the task that owns a state machine, and a blocking caller (the
//! demo script, say) never starves them.

use std::future::Future;
use std::num::NonZeroUsize;
use std::sync::{Once, OnceLock};
use std::thread;

use smol::{Executor, Task};

static EXECUTOR: OnceLock<Executor<'static>> = OnceLock::new();
static WORKERS: Once = Once::new();

/// Runs `future` on the process's executor.
pub fn spawn<T: Send + 'static>(future: impl Future<Output = T> + Send + 'static) -> Task<T> {
    executor().spawn(future)
}

/// Blocks the calling thread until `future` completes; the thread helps run the executor's
/// tasks meanwhile, so progress never depends on the worker threads alone.
pub fn block_on<T>(future: impl Future<Output = T>) -> T {
    smol::block_on(executor().run(future))
}

fn executor() -> &'static Executor<'static> {
    let executor = EXECUTOR.get_or_init(Executor::new);
    WORKERS.call_once(|| {
        let workers = thread::available_parallelism().map_or(1, NonZeroUsize::get);
        for i in 0..workers {
            let spawned = thread::Builder::new()
                .name(format!("smol-{i}"))
                .spawn(move || smol::block_on(executor.run(smol::future::pending::<()>())));
            if let Err(e) = spawned {
                tracing::error!("cannot start executor thread {i}: {e}");
            }
        }
    });
    executor
}
