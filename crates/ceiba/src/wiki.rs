//! `ceiba wiki …`: the encyclopedia from the command line. `import` and `export` (in
//! `wiki_offline.rs`) move it in from MediaWiki and out to ZIM; `zim-info`, `verify` and
//! `delta` are for whoever receives a copy on a USB stick: what a ZIM file holds, whether it
//! is the one that was published, and the small patch that turns last month's into this
//! month's.

use std::path::Path;

use anyhow::{Context, bail};
use ceiba_zim::reader::Archive;
use ceiba_zim::sign::{DetachedSignature, PublicKey};

use crate::cli::{DeltaCommand, WikiCommand};
use crate::print_line;

/// Metadata printed by `zim-info`, in this order, when present.
const METADATA_SHOWN: [&str; 9] = [
    "Title",
    "Name",
    "Description",
    "Language",
    "Creator",
    "Publisher",
    "Date",
    "Counter",
    "Source",
];

pub fn run(config_file: Option<&Path>, command: WikiCommand) -> anyhow::Result<()> {
    match command {
        WikiCommand::Import {
            fuente,
            archivo,
            storage,
        } => {
            if fuente != "mediawiki" {
                bail!("solo se importa de «mediawiki» (una exportación XML), no de «{fuente}»");
            }
            let config = crate::config::load_storage(config_file, &storage)?;
            crate::runtime()?.block_on(crate::wiki_offline::import_mediawiki(&config, &archivo))
        }
        WikiCommand::Export {
            formato,
            salida,
            storage,
        } => {
            if formato != "zim" {
                bail!("solo se exporta a «zim», no a «{formato}»");
            }
            let config = crate::config::load_storage(config_file, &storage)?;
            crate::runtime()?.block_on(crate::wiki_offline::export_zim(&config, &salida))
        }
        WikiCommand::ZimInfo { archivo, completo } => zim_info(&archivo, completo),
        WikiCommand::Verify {
            archivo,
            clave,
            firma,
        } => verify(&archivo, &clave, firma.as_deref()),
        WikiCommand::Delta {
            command:
                DeltaCommand::Make {
                    viejo,
                    nuevo,
                    parche,
                },
        } => {
            let delta = ceiba_zim::delta::make_delta(&read(&viejo)?, &read(&nuevo)?)?;
            write(&parche, &delta)?;
            let stats = ceiba_zim::delta::delta_stats(&delta)?;
            print_line(&format!("{}: {stats}.", parche.display()))
        }
        WikiCommand::Delta {
            command:
                DeltaCommand::Apply {
                    viejo,
                    parche,
                    nuevo,
                },
        } => {
            let rebuilt = ceiba_zim::delta::apply_delta(&read(&viejo)?, &read(&parche)?)
                .with_context(|| format!("no se pudo aplicar {}", parche.display()))?;
            write(&nuevo, &rebuilt)?;
            print_line(&format!(
                "{}: {} bytes, idéntico al publicado (SHA-256 comprobado).",
                nuevo.display(),
                rebuilt.len()
            ))
        }
    }
}

fn read(path: &Path) -> anyhow::Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("no se pudo leer {}", path.display()))
}

fn write(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    std::fs::write(path, bytes).with_context(|| format!("no se pudo escribir {}", path.display()))
}

fn zim_info(path: &Path, full: bool) -> anyhow::Result<()> {
    let archive = Archive::from_bytes(read(path)?)
        .with_context(|| format!("{} no es un archivo ZIM válido", path.display()))?;
    if full {
        archive
            .check()
            .with_context(|| format!("{} está dañado", path.display()))?;
    }
    let header = archive.header();
    print_line(&format!("Archivo: {}", path.display()))?;
    print_line(&format!(
        "Formato: ZIM {}.{}",
        header.major_version, header.minor_version
    ))?;
    print_line(&format!("Entradas: {}", archive.entry_count()))?;
    print_line(&format!("Clusters: {}", archive.cluster_count()))?;
    for name in METADATA_SHOWN {
        if let Some(value) = archive.metadata(name) {
            print_line(&format!("{name}: {value}"))?;
        }
    }
    match archive.main_page()? {
        Some(entry) => print_line(&format!("Página principal: {}", entry.long_path()))?,
        None => print_line("Página principal: ninguna")?,
    }
    if full {
        print_line("Comprobado: cada cluster y la suma MD5.")?;
    }
    Ok(())
}

fn verify(path: &Path, key: &str, signature: Option<&Path>) -> anyhow::Result<()> {
    let key = PublicKey::parse(key.trim()).context("la clave publicada no es válida")?;
    let signature_path = match signature {
        Some(path) => path.to_owned(),
        None => {
            let mut name = path.as_os_str().to_owned();
            name.push(".firma");
            name.into()
        }
    };
    let text = std::fs::read_to_string(&signature_path)
        .with_context(|| format!("no se pudo leer la firma {}", signature_path.display()))?;
    let signature = DetachedSignature::parse(&text)
        .with_context(|| format!("{} no es una firma válida", signature_path.display()))?;
    let file =
        std::fs::File::open(path).with_context(|| format!("no se pudo leer {}", path.display()))?;
    match ceiba_zim::sign::verify_reader(std::io::BufReader::new(file), &signature, &key) {
        Ok(verified) => print_line(&format!(
            "{}: firma válida de la clave {} ({} bytes).",
            path.display(),
            verified.signer,
            verified.digest.len
        )),
        Err(error) => bail!("{}: la firma no vale: {error}", path.display()),
    }
}
