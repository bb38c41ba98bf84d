//! The command line. Every flag is defined here once, and its help text comes from its doc.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Ceiba: servicios digitales públicos (pagos, salud, enciclopedia) en un solo programa.
#[derive(Debug, Parser)]
#[command(name = "ceiba", version, propagate_version = true)]
pub struct Cli {
    /// Archivo de configuración TOML (se aplica sobre los valores por defecto; las variables
    /// CEIBA_* y las opciones de la línea de órdenes se aplican encima).
    #[arg(long, global = true, env = "CEIBA_CONFIG", value_name = "ARCHIVO")]
    pub config: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Sirve la web y la API (aplica antes las migraciones pendientes).
    Serve(ServeArgs),
    /// Aplica las migraciones pendientes de la base de datos y termina.
    Migrate(StorageArgs),
    /// Muestra la configuración efectiva, con las contraseñas ocultas.
    Config(ServeArgs),
    /// Copia de seguridad en caliente, con el servidor en marcha: una sola foto coherente de
    /// toda la base de datos (SQLite con su API de copia en línea; PostgreSQL en una
    /// transacción de instantánea), con suma SHA-256 y firmada con la clave de esta instalación.
    Backup {
        /// Archivo de la copia (no debe existir).
        #[arg(value_name = "ARCHIVO")]
        out: PathBuf,
        #[command(flatten)]
        storage: StorageArgs,
    },
    /// Restaura una copia de `ceiba backup` con el servidor detenido. Rechaza, diciendo por
    /// qué, una copia dañada, alterada, de otra instalación o de otro esquema, y una base de
    /// datos con datos propios salvo con --force. Todo o nada.
    Restore {
        /// Archivo de la copia.
        #[arg(value_name = "ARCHIVO")]
        input: PathBuf,
        /// Reemplaza los datos que la base de datos ya tenga.
        #[arg(long)]
        force: bool,
        /// Clave pública (64 dígitos hexadecimales) de la instalación que firmó la copia, para
        /// restaurar en otra máquina; sin ella vale la clave de esta instalación.
        #[arg(long, value_name = "HEX")]
        public_key: Option<String>,
        #[command(flatten)]
        storage: StorageArgs,
    },
    /// Registro de auditoría: verificación, pruebas y puntos de control.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Administración: crear el primer administrador.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// Libro mayor: comprobación de invariantes y carga de prueba.
    Ledger {
        #[command(subcommand)]
        command: LedgerCommand,
    },
    /// Datos de demostración: personas, operadores, dinero y facturas para probar Ceiba.
    Demo {
        #[command(subcommand)]
        command: DemoCommand,
    },
    /// Un teléfono básico en la terminal: recorre los menús USSD de un servidor en marcha
    /// (POST /ussd), mostrando cada pantalla y leyendo cada respuesta de una línea de la entrada
    /// estándar, hasta que la sesión termina.
    Ussd(UssdArgs),
    /// Códigos QR de pago EMVCo (modo presentado por el comercio): leer uno y crear el de un
    /// comercio de Ceiba.
    Qr {
        #[command(subcommand)]
        command: QrCommand,
    },
    /// Salud: vigilancia epidemiológica (geografía, casos, tests, contactos).
    Salud {
        #[command(subcommand)]
        command: SaludCommand,
    },
    /// Modelos de Salud: número reproductivo (Rt), pronósticos, escenarios SEIR de
    /// metapoblaciones y el modelo basado en agentes de toda Cuba.
    Epi {
        #[command(subcommand)]
        command: EpiCommand,
    },
    /// Enciclopedia: paquetes sin conexión (archivos ZIM que abre Kiwix): su información, su
    /// firma y los parches entre dos versiones.
    Wiki {
        #[command(subcommand)]
        command: WikiCommand,
    },
    /// Mide el rendimiento e imprime cifras (en una base de datos aparte).
    Bench {
        #[command(subcommand)]
        command: BenchCommand,
    },
    /// Muestra la versión.
    Version,
}

#[derive(Debug, Subcommand)]
pub enum LedgerCommand {
    /// Reconstruye el libro mayor desde su diario y comprueba sus invariantes: débitos igual a
    /// créditos por libro, ningún saldo contra sus marcas, transferencias entre cuentas
    /// existentes de su libro, marcas de tiempo crecientes. Sale con error si alguna falla.
    Check(StorageArgs),
    /// Carga de prueba, para ensayos de caídas: crea las cuentas 1 a N (la mitad, monederos que
    /// no pueden quedar en negativo, con fondos de la cuenta 1) y envía lotes de transferencias
    /// deterministas (simples, encadenadas, pendientes que se asientan o se anulan). Tras cada
    /// lote guardado de forma duradera imprime «ack PRIMERA ÚLTIMA CREADAS» seguido de
    /// «ID=CÓDIGO» por cada transferencia no creada. Repetirla con los mismos identificadores
    /// no duplica nada: responde «exists».
    Load {
        #[command(flatten)]
        storage: StorageArgs,
        /// Cuántas cuentas (se crean si faltan).
        #[arg(long, default_value_t = 1_000)]
        accounts: u32,
        /// Cuántas transferencias enviar.
        #[arg(long, default_value_t = 100_000)]
        transfers: u64,
        /// Transferencias por lote.
        #[arg(long, default_value_t = 100)]
        batch: u32,
        /// Identificador de la primera transferencia; las siguientes lo siguen.
        #[arg(long, default_value_t = 1)]
        first_id: u64,
        /// Semilla de la que salen cuentas, importes y tipos de cada lote.
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
}

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Crea una cuenta activa con los roles dados; la contraseña se lee de la entrada
    /// estándar (una línea), nunca de la línea de órdenes.
    CreateUser {
        /// Número de móvil cubano, p. ej. +53 5123 4567.
        #[arg(long)]
        phone: String,
        /// Nombre que se muestra.
        #[arg(long)]
        name: String,
        /// Rol (repetible): citizen, merchant, biller, bank_operator, health_worker,
        /// epidemiologist, editor, reviewer, administrator, auditor.
        #[arg(long = "role", required = true)]
        roles: Vec<String>,
        #[command(flatten)]
        storage: StorageArgs,
    },
}

#[derive(Debug, Subcommand)]
pub enum DemoCommand {
    /// Llena la base de datos con una demostración: personas con nombres y móviles cubanos,
    /// una cajera de banco y un operador de facturas (con segundo factor), dinero depositado en
    /// cada monedero por un banco y facturas abiertas; imprime teléfonos, la contraseña, el PIN
    /// USSD, los códigos de los operadores y las referencias de las facturas. Repetirla no
    /// duplica nada. Se niega a tocar una base de datos con cuentas que no son de la
    /// demostración, salvo con --force.
    Seed {
        #[command(flatten)]
        storage: StorageArgs,
        /// Siembra aunque la base de datos tenga cuentas que no son de la demostración (no las
        /// toca).
        #[arg(long)]
        force: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Recalcula el árbol desde el almacenamiento y comprueba cada entrada y cada punto de
    /// control firmado; termina con error nombrando la primera entrada alterada, eliminada o
    /// reordenada.
    Verify(StorageArgs),
    /// Firma ahora un punto de control si el registro creció desde el último.
    Checkpoint(StorageArgs),
    /// Imprime en JSON una prueba que un tercero puede comprobar.
    Proof {
        #[command(subcommand)]
        proof: ProofCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum ProofCommand {
    /// Prueba de inclusión de una entrada en el árbol de un tamaño dado.
    Inclusion {
        /// Índice de la entrada (desde 0).
        #[arg(long)]
        index: u64,
        /// Tamaño del árbol (por defecto, el actual).
        #[arg(long)]
        tree_size: Option<u64>,
        #[command(flatten)]
        storage: StorageArgs,
    },
    /// Prueba de consistencia entre dos tamaños del árbol.
    Consistency {
        /// El tamaño anterior.
        #[arg(long)]
        first: u64,
        /// El tamaño posterior (por defecto, el actual).
        #[arg(long)]
        second: Option<u64>,
        #[command(flatten)]
        storage: StorageArgs,
    },
}

#[derive(Debug, Subcommand)]
pub enum SaludCommand {
    /// Carga las provincias y los municipios (códigos DPA, nombres, población y fronteras) de
    /// los archivos de datos de Cuba; repetirla no cambia nada. Imprime lo que tuvo que
    /// resolver (nombres escritos de otro modo, nombres repetidos).
    Geography {
        /// La carpeta con provincias.geojson, municipios.geojson y
        /// municipality-population.json.
        #[arg(long, default_value = "../shared/data/cuba", value_name = "CARPETA")]
        dir: PathBuf,
        #[command(flatten)]
        storage: StorageArgs,
    },
    /// Importa datos de otra fuente. `covid19cubadata ARCHIVO.zip`: el archivo de datos
    /// abiertos de COVID-19 de Cuba (casos, fallecidos, centros, eventos y la serie diaria
    /// nacional), con la geografía de la carpeta del archivo; imprime y guarda el informe de
    /// calidad de los datos. Repetirla no cambia nada.
    Import {
        /// La fuente: covid19cubadata.
        #[arg(value_name = "FUENTE")]
        source: String,
        /// El archivo .zip.
        #[arg(value_name = "ARCHIVO")]
        archive: PathBuf,
        /// Solo lo ocurrido hasta este día (AAAA-MM-DD), inclusive.
        #[arg(long, value_name = "DÍA")]
        until: Option<String>,
        #[command(flatten)]
        storage: StorageArgs,
    },
    /// Busca brotes en cada municipio (EARS C1, C2 y C3 y el cruce del umbral de incidencia
    /// en 14 días), guarda cada señal nueva y avisa por SMS a los epidemiólogos de la
    /// provincia de las de los últimos días. `ceiba serve` lo hace solo cada vez que cambian
    /// los casos.
    Alerts {
        /// Se avisa de las señales de los últimos N días (las más viejas solo se guardan); sin
        /// él, `salud.alerts.notify_days` de la configuración (3). Los umbrales también se
        /// leen de `[salud.alerts]`.
        #[arg(long, value_name = "N")]
        notify_days: Option<u32>,
        #[command(flatten)]
        storage: StorageArgs,
    },
}

#[derive(Debug, Subcommand)]
pub enum EpiCommand {
    /// Rt de un territorio por el método de Cori et al. (EpiEstim) con los casos guardados:
    /// ventana deslizante, intervalo serial gamma discretizado, a priori media 5 y desviación
    /// 5, intervalo de credibilidad del 95 %; los casos importados contagian pero no cuentan
    /// como contagiados aquí. Escribe un CSV o un JSON (por la extensión de --out) e imprime
    /// el último valor.
    Rt {
        /// Código DPA: `cu` (el país), una provincia (`23`) o un municipio (`23.04`).
        #[arg(long, default_value = "cu", value_name = "CÓDIGO")]
        area: String,
        /// Días de cada ventana.
        #[arg(long, default_value_t = 7, value_name = "DÍAS")]
        window: usize,
        /// Media y desviación típica del intervalo serial, en días.
        #[arg(long, default_value_t = 4.8, value_name = "DÍAS")]
        si_mean: f64,
        #[arg(long, default_value_t = 2.3, value_name = "DÍAS")]
        si_sd: f64,
        /// Archivo de salida (.csv o .json); sin él, solo el resumen.
        #[arg(long, value_name = "ARCHIVO")]
        out: Option<PathBuf>,
        #[command(flatten)]
        storage: StorageArgs,
    },
    /// Pronóstico a corto plazo de un territorio: conjunto de modelos de crecimiento
    /// (logístico generalizado, Richards, Gompertz generalizado) ajustados a los últimos 42
    /// días, con intervalos de predicción, la línea de base ingenua y las puntuaciones de los
    /// pronósticos de una a cuatro semanas antes. Escribe JSON.
    Forecast {
        #[arg(long, default_value = "cu", value_name = "CÓDIGO")]
        area: String,
        #[arg(long, value_name = "ARCHIVO")]
        out: Option<PathBuf>,
        #[command(flatten)]
        storage: StorageArgs,
    },
    /// Escenarios del modelo SEIR de metapoblaciones sobre las provincias o los municipios,
    /// desde los casos guardados (o 10 infecciosos en el territorio más poblado si no hay
    /// casos recientes). Los parámetros, en un JSON como el de la API (`days`, `r0`,
    /// `scenarios`…); sin él, 180 días y los escenarios favorable, medio y crítico.
    Seir {
        /// JSON con los parámetros (el mismo de POST /api/v1/salud/models/runs).
        #[arg(long, value_name = "ARCHIVO")]
        parameters: Option<PathBuf>,
        /// Días (sustituye al del JSON).
        #[arg(long, value_name = "DÍAS")]
        days: Option<u32>,
        /// La versión estocástica (cadena binomial) con esta semilla, sin escenarios.
        #[arg(long, value_name = "SEMILLA")]
        stochastic: Option<u64>,
        #[arg(long, value_name = "ARCHIVO")]
        out: Option<PathBuf>,
        #[command(flatten)]
        storage: StorageArgs,
    },
    /// Modelo basado en agentes: una población sintética de Cuba (hogares, escuelas, centros
    /// de trabajo y comunidad por municipio) o de N personas, con la progresión de la
    /// enfermedad por edad y pruebas, aislamiento, rastreo y cuarentena. Escribe las series
    /// diarias (JSON, o CSV por la extensión) e imprime una línea JSON con agents, days,
    /// seconds, person_days_per_second y la memoria máxima.
    Abm {
        /// `cuba` (los 168 municipios de --dir) o un número de personas.
        #[arg(long, default_value = "cuba", value_name = "cuba|N")]
        population: String,
        #[arg(long, value_name = "DÍAS")]
        days: u32,
        #[arg(long, default_value_t = 1, value_name = "SEMILLA")]
        seed: u64,
        /// Hilos (el resultado es el mismo con cualquier número).
        #[arg(long, default_value_t = 1, value_name = "N")]
        threads: usize,
        /// JSON con los parámetros del modelo (r0, capas, enfermedad, intervenciones).
        #[arg(long, value_name = "ARCHIVO")]
        params: Option<PathBuf>,
        /// La carpeta con municipios.geojson, provincias.geojson y
        /// municipality-population.json.
        #[arg(long, default_value = "../shared/data/cuba", value_name = "CARPETA")]
        dir: PathBuf,
        #[arg(long, value_name = "ARCHIVO")]
        out: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum WikiCommand {
    /// Abre un archivo ZIM, comprueba su estructura (y con --completo cada cluster y la suma
    /// MD5) e imprime sus metadatos y cuántas entradas tiene. Un archivo dañado recibe una
    /// frase que dice qué está mal, y sale con error.
    ZimInfo {
        archivo: PathBuf,
        /// Descomprime y comprueba cada cluster y la suma de comprobación.
        #[arg(long)]
        completo: bool,
    },
    /// Comprueba que un paquete ZIM es el que se publicó: su firma separada (ARCHIVO.firma, u
    /// otra con --firma) hecha con la clave publicada (--clave ed25519:…). Dice quién firmó,
    /// o por qué no vale.
    Verify {
        archivo: PathBuf,
        /// La clave publicada: `ed25519:<base64>`.
        #[arg(long, value_name = "CLAVE")]
        clave: String,
        #[arg(long, value_name = "ARCHIVO")]
        firma: Option<PathBuf>,
    },
    /// Importa páginas con todo su historial de una exportación XML de MediaWiki (0.8 a
    /// 0.11): cada revisión una vez aunque se importe de nuevo; una página mala se informa con
    /// su línea y el resto se importa. Muestra el progreso en una terminal.
    Import {
        /// `mediawiki`.
        fuente: String,
        archivo: PathBuf,
        #[command(flatten)]
        storage: StorageArgs,
    },
    /// Exporta la revisión revisada de cada artículo a un archivo ZIM que Kiwix abre (con
    /// portada, listado de títulos, favicono y metadatos), firmado: escribe ARCHIVO.firma y
    /// dice la clave publicada. La clave de firma vive en la carpeta de datos.
    Export {
        /// `zim`.
        formato: String,
        salida: PathBuf,
        #[command(flatten)]
        storage: StorageArgs,
    },
    /// Parches entre dos exportaciones: `make VIEJO NUEVO PARCHE` lleva solo lo que cambió;
    /// `apply VIEJO PARCHE NUEVO` rehace el nuevo exacto (o dice por qué no).
    Delta {
        #[command(subcommand)]
        command: DeltaCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum DeltaCommand {
    Make {
        viejo: PathBuf,
        nuevo: PathBuf,
        parche: PathBuf,
    },
    Apply {
        viejo: PathBuf,
        parche: PathBuf,
        nuevo: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum QrCommand {
    /// Comprueba un código QR de pago (formato, campos obligatorios, CRC) e imprime sus campos
    /// en JSON; si no es válido, dice por qué y termina con error.
    Decode {
        /// El texto del código, tal como lo lee un escáner (entre comillas).
        #[arg(value_name = "CÓDIGO")]
        payload: String,
    },
    /// Crea el código QR de pago de un comercio de Ceiba e imprime su texto: estático (para
    /// cualquier pago) sin importe, dinámico (para un solo pago) con él.
    Encode(Box<QrEncodeArgs>),
}

#[derive(Debug, Args)]
pub struct QrEncodeArgs {
    /// Nombre del comercio, hasta 25 caracteres.
    #[arg(long, value_name = "NOMBRE")]
    pub name: String,
    /// Ciudad del comercio, hasta 15 caracteres.
    #[arg(long, value_name = "CIUDAD")]
    pub city: String,
    /// Código de categoría del comercio (ISO 18245), cuatro cifras, p. ej. 5411 (comestibles).
    #[arg(long, value_name = "CÓDIGO")]
    pub mcc: String,
    /// Moneda, por su código numérico ISO 4217: 192 (CUP) o 840 (USD).
    #[arg(long, value_name = "CÓDIGO")]
    pub currency: String,
    /// Importe, p. ej. 12.50 o 12,50; con él, el código sirve para un solo pago.
    #[arg(long, value_name = "IMPORTE")]
    pub amount: Option<String>,
    /// Referencia del cobro (campo 62, subcampo 05), hasta 25 caracteres.
    #[arg(long, value_name = "REFERENCIA")]
    pub reference: Option<String>,
    /// País del comercio (ISO 3166-1, dos letras).
    #[arg(long, default_value = "CU", value_name = "PAÍS")]
    pub country: String,
    /// Cuenta del comercio en Ceiba (plantilla 26, subcampo 01, tras el identificador
    /// «cu.ceiba»).
    #[arg(long, default_value = "0", value_name = "CUENTA")]
    pub account_id: String,
    /// Escribe además el código como imagen SVG en este archivo.
    #[arg(long, value_name = "ARCHIVO", conflicts_with = "png")]
    pub svg: Option<PathBuf>,
    /// Escribe además el código como imagen PNG en este archivo.
    #[arg(long, value_name = "ARCHIVO")]
    pub png: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Enciclopedia: genera un corpus de artículos en español (vocabulario real con
    /// frecuencias de Zipf), los indexa en una carpeta temporal y mide búsquedas de los 10
    /// primeros con fragmentos, sugerencias de títulos y cuánto tarda una edición en poder
    /// buscarse; imprime una línea JSON.
    Wiki {
        #[arg(long, default_value_t = 100_000)]
        articles: usize,
        #[arg(long, default_value_t = 2_000)]
        queries: usize,
    },
    /// Latencia de inicio de sesión por HTTP (Argon2id con los parámetros de OWASP incluido),
    /// contra un servidor en 127.0.0.1 con un SQLite nuevo en una carpeta temporal.
    Login {
        /// Cuántos inicios de sesión medir, uno tras otro.
        #[arg(long, default_value_t = 50)]
        sign_ins: u32,
    },
    /// Libro mayor: crea cuentas y envía transferencias por lotes por el mismo camino que el
    /// servidor (commit en grupo, escritura duradera, aplicación); imprime una línea JSON.
    Ledger {
        /// Cuántas cuentas crear antes de medir.
        #[arg(long, default_value_t = 100_000)]
        accounts: u32,
        /// Cuántas transferencias enviar.
        #[arg(long, default_value_t = 1_000_000)]
        transfers: u32,
        /// Transferencias por lote (1 mide la latencia de un commit duradero).
        #[arg(long, default_value_t = 8_190)]
        batch: u32,
        /// Con H > 0, cada transferencia paga a una de las H primeras cuentas (comercios en día
        /// de cobro); con 0, las dos cuentas se eligen al azar entre todas.
        #[arg(long, default_value_t = 0)]
        hot_accounts: u32,
        /// Clientes que envían lotes a la vez.
        #[arg(long, default_value_t = 1)]
        clients: u32,
        /// PostgreSQL de pruebas (vacía); sin ella, un SQLite nuevo en una carpeta temporal.
        #[arg(long, value_name = "URL")]
        database_url: Option<String>,
        /// Antes, mide con `pgbench` (TPC-B, 8 clientes, 10 s) la misma PostgreSQL, para
        /// comparar en la misma ejecución.
        #[arg(long)]
        compare_pgbench: bool,
    },
    /// Pagos: transferencias entre personas por la API HTTP, autenticadas, con Idempotency-Key,
    /// contra un servidor arrancado aquí con una base de datos nueva; imprime una línea JSON.
    Payments {
        /// Personas (cada una recibe 50.000 CUP por un depósito antes de medir).
        #[arg(long, default_value_t = 1_000)]
        users: u32,
        /// Transferencias que enviar.
        #[arg(long, default_value_t = 20_000)]
        transfers: u32,
        /// Clientes que envían a la vez.
        #[arg(long, default_value_t = 64)]
        concurrency: u32,
        /// PostgreSQL de pruebas (vacía); sin ella, un SQLite nuevo en una carpeta temporal.
        #[arg(long, value_name = "URL")]
        database_url: Option<String>,
    },
    /// Pagos masivos: sube un archivo de N filas (comprobarlo todo y guardarlo) y lo paga con
    /// el mismo proceso que `ceiba serve`; imprime una línea JSON.
    Payouts {
        /// Filas del archivo (hasta 100.000).
        #[arg(long, default_value_t = 100_000)]
        rows: u32,
        /// Personas distintas a las que paga.
        #[arg(long, default_value_t = 1_000)]
        people: u32,
        /// PostgreSQL de pruebas (vacía); sin ella, un SQLite nuevo en una carpeta temporal.
        #[arg(long, value_name = "URL")]
        database_url: Option<String>,
    },
    /// Resistencia: una mezcla realista (transferencias, facturas, recargas, pagos con QR,
    /// lecturas y ediciones de la enciclopedia, tablero de Salud) durante N minutos contra un
    /// servidor arrancado aquí; imprime por intervalos rendimiento, latencias, errores y
    /// memoria, y un resumen JSON. Falla si hubo errores o el libro mayor incumple algo.
    Soak {
        /// Minutos que dura (admite fracciones: 0.5).
        #[arg(long)]
        minutes: f64,
        /// Clientes que envían a la vez.
        #[arg(long, default_value_t = 16)]
        concurrency: u32,
        /// Personas (cada una recibe 20.000 CUP por un depósito antes de empezar).
        #[arg(long, default_value_t = 200)]
        people: u32,
        /// PostgreSQL de pruebas (vacía); sin ella, un SQLite nuevo en una carpeta temporal.
        #[arg(long, value_name = "URL")]
        database_url: Option<String>,
    },
    /// Salud: importa el archivo de COVID-19 de Cuba en una base de datos nueva y mide las
    /// series diarias abiertas (nación, provincia, municipio) por HTTP; imprime una línea JSON.
    Salud {
        /// El archivo covid19cubadata (.zip), con la geografía en su carpeta.
        #[arg(
            long,
            default_value = "../shared/data/cuba/covid19cuba.zip",
            value_name = "ARCHIVO"
        )]
        archive: PathBuf,
        /// Peticiones de cada serie.
        #[arg(long, default_value_t = 50)]
        requests: u32,
        /// PostgreSQL de pruebas (vacía); sin ella, un SQLite nuevo en una carpeta temporal.
        #[arg(long, value_name = "URL")]
        database_url: Option<String>,
    },
    /// Tasa de escritura del registro de auditoría: una entrada por transacción y por lotes.
    Audit {
        /// Cuántas entradas escribir en cada modo.
        #[arg(long, default_value_t = 2_000)]
        entries: u32,
        /// Entradas por transacción en el modo por lotes.
        #[arg(long, default_value_t = 100)]
        batch: u32,
        /// PostgreSQL de pruebas; sin ella, un SQLite nuevo en una carpeta temporal.
        #[arg(long, value_name = "URL")]
        database_url: Option<String>,
    },
}

#[derive(Debug, Args)]
pub struct UssdArgs {
    /// El número que marca, p. ej. +5355512345 (debe tener cuenta activa y PIN).
    #[arg(long)]
    pub phone: String,
    /// El servidor (http://…).
    #[arg(long, default_value = "http://127.0.0.1:8080", value_name = "URL")]
    pub server: String,
    /// El código marcado, como lo recibe la pasarela.
    #[arg(long, default_value = "*234#", value_name = "CÓDIGO")]
    pub service_code: String,
    /// La clave de la pasarela USSD (X-Ceiba-Ussd-Key), la misma que ussd.gateway_key del
    /// servidor.
    #[arg(
        long,
        env = "CEIBA_USSD__GATEWAY_KEY",
        hide_env_values = true,
        value_name = "CLAVE"
    )]
    pub key: Option<String>,
    /// Pide las pantallas en ASCII, sin tildes, como las ven algunos teléfonos.
    #[arg(long)]
    pub ascii: bool,
}

#[derive(Debug, Args, Default)]
pub struct StorageArgs {
    /// Carpeta de datos (con SQLite, contiene la base de datos).
    #[arg(long, value_name = "CARPETA")]
    pub data_dir: Option<PathBuf>,

    /// Base de datos PostgreSQL (postgres://…); sin ella se usa SQLite en la carpeta de datos.
    #[arg(long, value_name = "URL")]
    pub database_url: Option<String>,
}

#[derive(Debug, Args, Default)]
pub struct ServeArgs {
    /// Dirección y puerto donde escuchar (puerto 0: uno libre cualquiera).
    #[arg(long, value_name = "DIRECCIÓN:PUERTO")]
    pub listen: Option<String>,

    /// Certificado TLS (PEM, con la cadena): con él y --tls-key, Ceiba sirve HTTPS.
    #[arg(long, value_name = "ARCHIVO")]
    pub tls_cert: Option<PathBuf>,

    /// Clave privada TLS (PEM).
    #[arg(long, value_name = "ARCHIVO")]
    pub tls_key: Option<PathBuf>,

    #[command(flatten)]
    pub storage: StorageArgs,
}
