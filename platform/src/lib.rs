//! What every transport needs, whatever drives its sockets: from the operating system, the
//! open-file limit a server must raise, the endpoint a client declares, and destinations written
//! in a socket's address family; the bounds on connections and exits both transports share; and
//! the link to a cluster's Redis. No protocol logic and no runtime: std sockets and threads only.

pub mod address;
pub mod cluster;
pub mod fdlimit;
pub mod limits;
