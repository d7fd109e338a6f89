//! A server on a loopback port in its own runtime, and a plain HTTP/1.1
//! client over `std::net::TcpStream` (one request per connection), so that
//! what is tested is what goes over the wire.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::mpsc;
use std::time::Duration;

use aicr_server::{Config, Server};

pub struct Running {
    pub addr: SocketAddr,
    pub stop: tokio::sync::oneshot::Sender<()>,
    pub done: mpsc::Receiver<std::io::Result<()>>,
}

pub fn start(config: Config) -> Running {
    start_with_drain(config, Duration::from_secs(10))
}

pub fn start_with_drain(config: Config, drain: Duration) -> Running {
    launch(config, move |listener, server, stop| async move {
        aicr_server::serve(
            listener,
            server,
            async {
                let _ = stop.await;
            },
            drain,
        )
        .await
    })
}

/// The router on a socket without [`aicr_server::serve`]: never ready.
pub fn start_without_serve(config: Config) -> Running {
    launch(config, |listener, server, stop| async move {
        axum::serve(listener, aicr_server::router(server))
            .with_graceful_shutdown(async {
                let _ = stop.await;
            })
            .await
    })
}

fn launch<F, Fut>(config: Config, run: F) -> Running
where
    F: FnOnce(
            tokio::net::TcpListener,
            std::sync::Arc<Server>,
            tokio::sync::oneshot::Receiver<()>,
        ) -> Fut
        + Send
        + 'static,
    Fut: std::future::Future<Output = std::io::Result<()>>,
{
    let (stop, stop_rx) = tokio::sync::oneshot::channel();
    let (addr_tx, addr_rx) = mpsc::channel();
    let (done_tx, done) = mpsc::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let result = runtime.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
            addr_tx.send(listener.local_addr()?).unwrap();
            let server = Server::new(aicr::Client::embedded().unwrap(), config);
            run(listener, server, stop_rx).await
        });
        let _ = done_tx.send(result);
    });
    let addr = addr_rx
        .recv_timeout(Duration::from_secs(30))
        .expect("server started");
    Running { addr, stop, done }
}

pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

fn connect(s: &Running) -> TcpStream {
    let stream = TcpStream::connect(s.addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    stream
}

fn head(method: &str, path: &str, headers: &[(&str, &str)], length: usize) -> Vec<u8> {
    let mut text = format!("{method} {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n");
    for (name, value) in headers {
        text.push_str(&format!("{name}: {value}\r\n"));
    }
    if length > 0 || method == "POST" {
        text.push_str(&format!("Content-Length: {length}\r\n"));
    }
    text.push_str("\r\n");
    text.into_bytes()
}

pub fn request(
    s: &Running,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Reply {
    let mut stream = connect(s);
    stream
        .write_all(&head(method, path, headers, body.len()))
        .unwrap();
    // The server may answer (413) before reading everything.
    let _ = stream.write_all(body);
    read_reply(stream)
}

/// Sends the head of a POST promising `length` bytes and never the body.
pub fn request_with_stalled_body(s: &Running, path: &str, length: usize) -> Reply {
    let mut stream = connect(s);
    stream.write_all(&head("POST", path, &[], length)).unwrap();
    read_reply(stream)
}

/// A POST whose head is sent now and whose body is sent by `finish`.
pub struct Pending {
    stream: TcpStream,
    body: Vec<u8>,
}

pub fn begin_request(s: &Running, path: &str, body: &[u8]) -> Pending {
    let mut stream = connect(s);
    stream
        .write_all(&head(
            "POST",
            path,
            &[("Content-Type", "application/json")],
            body.len(),
        ))
        .unwrap();
    Pending {
        stream,
        body: body.to_vec(),
    }
}

impl Pending {
    pub fn finish(mut self) -> Reply {
        self.stream.write_all(&self.body).unwrap();
        read_reply(self.stream)
    }
}

fn read_reply(mut stream: TcpStream) -> Reply {
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).unwrap();
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no header end in {:?}", String::from_utf8_lossy(&raw)));
    let head = String::from_utf8(raw[..split].to_vec()).unwrap();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(": "))
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect();
    let mut body = raw[split + 4..].to_vec();
    let chunked = headers
        .iter()
        .any(|(n, v)| n.eq_ignore_ascii_case("transfer-encoding") && v == "chunked");
    if chunked {
        body = dechunk(&body);
    }
    Reply {
        status,
        headers,
        body,
    }
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let line_end = data.windows(2).position(|w| w == b"\r\n").unwrap();
        let size =
            usize::from_str_radix(std::str::from_utf8(&data[..line_end]).unwrap().trim(), 16)
                .unwrap();
        data = &data[line_end + 2..];
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&data[..size]);
        data = &data[size + 2..];
    }
}
