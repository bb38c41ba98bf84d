//! Runs `ceiba serve` as a real process, the way an operator would, for end-to-end tests.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use std::sync::{Arc, Mutex};

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio::task::JoinHandle;

/// How long a server may take to start (build caches cold, PostgreSQL migrations).
const START_TIMEOUT: Duration = Duration::from_secs(30);
const STOP_TIMEOUT: Duration = Duration::from_secs(15);

/// A running `ceiba serve`; killed when dropped if not stopped.
#[derive(Debug)]
pub struct ServeProcess {
    child: Child,
    /// Everything the server wrote to stderr so far; read all along so the pipe never fills.
    stderr: Arc<Mutex<String>>,
    stderr_reader: JoinHandle<()>,
    /// `http://127.0.0.1:PORT`, as the server announced it.
    pub base_url: String,
}

impl ServeProcess {
    /// Starts `binary serve --listen 127.0.0.1:0 ARGS…` with extra environment variables and
    /// waits for the line in which it announces its address.
    pub async fn start(
        binary: &Path,
        args: &[String],
        env: &[(&str, &str)],
    ) -> Result<ServeProcess, String> {
        ServeProcess::start_command(Command::new(binary), args, env).await
    }

    /// Like [`ServeProcess::start`], for a command prepared by the caller (working folder …).
    pub async fn start_command(
        mut command: Command,
        args: &[String],
        env: &[(&str, &str)],
    ) -> Result<ServeProcess, String> {
        command
            .arg("serve")
            .args(["--listen", "127.0.0.1:0"])
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        for (name, value) in env {
            command.env(name, value);
        }
        let mut child = command
            .spawn()
            .map_err(|error| format!("no se pudo lanzar ceiba: {error}"))?;
        let stdout = child.stdout.take().ok_or("sin salida estándar")?;
        let stderr = Arc::new(Mutex::new(String::new()));
        let stderr_reader = {
            let pipe = child.stderr.take().ok_or("sin salida de errores")?;
            let stderr = stderr.clone();
            tokio::spawn(async move {
                let mut lines = BufReader::new(pipe).lines();
                while let Ok(Some(line)) = lines.next_line().await {
                    let mut text = stderr.lock().expect("stderr buffer");
                    text.push_str(&line);
                    text.push('\n');
                }
            })
        };
        let mut lines = BufReader::new(stdout).lines();
        let announced = tokio::time::timeout(START_TIMEOUT, async {
            while let Some(line) = lines.next_line().await.ok().flatten() {
                if let Some(url) = line.strip_prefix("Ceiba escucha en ") {
                    return Some(url.trim().to_owned());
                }
            }
            None
        })
        .await;
        // Keep draining stdout so the server never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        match announced {
            Ok(Some(base_url)) => Ok(ServeProcess {
                child,
                stderr,
                stderr_reader,
                base_url,
            }),
            _ => {
                let _ = child.start_kill();
                let _ = child.wait().await;
                let _ = stderr_reader.await;
                let text = stderr.lock().expect("stderr buffer").clone();
                Err(format!(
                    "ceiba serve no anunció su dirección; stderr:\n{text}"
                ))
            }
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    pub fn pid(&self) -> Option<u32> {
        self.child.id()
    }

    /// What the server has written to stderr so far (its logs).
    pub fn stderr(&self) -> String {
        self.stderr.lock().expect("stderr buffer").clone()
    }

    /// Sends SIGTERM and waits for the exit; returns the exit code and what went to stderr.
    pub async fn stop(mut self) -> Result<(Option<i32>, String), String> {
        let pid = self.child.id().ok_or("el proceso ya terminó")?;
        let status = Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()
            .await
            .map_err(|error| format!("kill: {error}"))?;
        if !status.success() {
            return Err(format!("kill -TERM {pid} falló"));
        }
        let exit = tokio::time::timeout(STOP_TIMEOUT, self.child.wait())
            .await
            .map_err(|_| {
                format!(
                    "ceiba serve no terminó {} s después de SIGTERM",
                    STOP_TIMEOUT.as_secs()
                )
            })?
            .map_err(|error| error.to_string())?;
        let _ = (&mut self.stderr_reader).await;
        Ok((exit.code(), self.stderr()))
    }
}
