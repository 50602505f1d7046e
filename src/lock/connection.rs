//! One Redis node's connection, with one retry where a retry is safe.
//!
//! The connection manager reconnects by itself when the server hangs up
//! (RESP3 tells it at once), but only for a few tries (about a second). When
//! Redis stays down longer than that — a restart that saves a snapshot, a
//! container that takes seconds to come back — the manager keeps its failed
//! attempt until the next command, which fails on it ("connection refused")
//! however long ago Redis came back, and only sets off the reconnect that the
//! command after it uses. That was the 503 on every instance after an idle
//! Redis restart.
//!
//! So a command refused that way is sent once more, on the fresh connection
//! its failure set off. That is safe for every command, `SET NX` and the fair
//! lock's hand-over included: "connection refused" only ever comes from
//! connecting, never from a connection a command was written to, so the
//! refused command never reached Redis. A command that failed after it may
//! have been sent (a reset, a broken pipe, a timeout) is not retried here.
//! If Redis is still down, the retry waits for that reconnect to fail, within
//! the caller's timeout ([`super::RedisNode::call`]): an outage still answers
//! 503 within the call timeout.

use redis::aio::{ConnectionLike, ConnectionManager};
use redis::{Cmd, Pipeline, RedisFuture, RedisResult, Value};

/// A [`ConnectionManager`] that sends a refused command once more. Cheap to
/// clone.
#[derive(Clone)]
pub struct NodeConnection(ConnectionManager);

impl NodeConnection {
    pub fn new(manager: ConnectionManager) -> Self {
        Self(manager)
    }
}

fn refused<T>(reply: &RedisResult<T>) -> bool {
    reply
        .as_ref()
        .is_err_and(redis::RedisError::is_connection_refusal)
}

impl ConnectionLike for NodeConnection {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        Box::pin(async move {
            let reply = self.0.send_packed_command(cmd).await;
            if refused(&reply) {
                return self.0.send_packed_command(cmd).await;
            }
            reply
        })
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        Box::pin(async move {
            let reply = self.0.send_packed_commands(pipeline, offset, count).await;
            if refused(&reply) {
                return self.0.send_packed_commands(pipeline, offset, count).await;
            }
            reply
        })
    }

    fn get_db(&self) -> i64 {
        self.0.get_db()
    }
}
