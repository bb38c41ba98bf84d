//! Languages: Spanish first, English second. A person's choice (the `lang` query parameter,
//! remembered in a cookie) wins over the browser's `Accept-Language`, which wins over Spanish.

/// A language Ceiba speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    Es,
    En,
}

pub const LANG_COOKIE: &str = "ceiba_lang";

impl Lang {
    pub fn parse(text: &str) -> Option<Lang> {
        let primary = text.trim().split(['-', '_']).next()?.to_ascii_lowercase();
        match primary.as_str() {
            "es" => Some(Lang::Es),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Lang::Es => "es",
            Lang::En => "en",
        }
    }

    pub fn other(self) -> Lang {
        match self {
            Lang::Es => Lang::En,
            Lang::En => Lang::Es,
        }
    }

    pub fn texts(self) -> &'static Texts {
        match self {
            Lang::Es => &SPANISH,
            Lang::En => &ENGLISH,
        }
    }

    /// What the Pagos pages say.
    pub fn pagos(self) -> &'static PagosTexts {
        match self {
            Lang::Es => &PAGOS_SPANISH,
            Lang::En => &PAGOS_ENGLISH,
        }
    }

    /// Chooses the language of a response.
    pub fn negotiate(
        query: Option<&str>,
        cookie: Option<&str>,
        accept_language: Option<&str>,
    ) -> Lang {
        query
            .and_then(Lang::parse)
            .or_else(|| cookie.and_then(Lang::parse))
            .or_else(|| accept_language.and_then(from_accept_language))
            .unwrap_or_default()
    }
}

/// The spoken language with the highest quality in an `Accept-Language` header (RFC 9110
/// §12.5.4); the earlier one wins a tie.
fn from_accept_language(header: &str) -> Option<Lang> {
    let mut best: Option<(Lang, u16)> = None;
    for item in header.split(',').take(32) {
        let mut parts = item.split(';');
        let Some(lang) = parts.next().and_then(Lang::parse) else {
            continue;
        };
        let quality = parts
            .find_map(|parameter| parameter.trim().strip_prefix("q="))
            .map_or(Some(1000), parse_quality);
        let Some(quality) = quality else { continue };
        if quality > 0 && best.is_none_or(|(_, best_quality)| quality > best_quality) {
            best = Some((lang, quality));
        }
    }
    best.map(|(lang, _)| lang)
}

/// A quality value in thousandths; `None` when it does not parse.
fn parse_quality(text: &str) -> Option<u16> {
    let value: f32 = text.trim().parse().ok()?;
    if !(0.0..=1.0).contains(&value) {
        return None;
    }
    // In range 0..=1000 by the check above.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    Some((value * 1000.0).round() as u16)
}

/// Everything a page says, in one language.
#[derive(Debug)]
pub struct Texts {
    pub site_title: &'static str,
    pub tagline: &'static str,
    pub services_heading: &'static str,
    pub pagos_title: &'static str,
    pub pagos_body: &'static str,
    pub salud_title: &'static str,
    pub salud_body: &'static str,
    pub enciclopedia_title: &'static str,
    pub enciclopedia_body: &'static str,
    pub offline_note: &'static str,
    /// The link that switches to the other language, written in that language.
    pub switch_label: &'static str,
    pub not_found_title: &'static str,
    pub error_title: &'static str,
    pub back_home: &'static str,
    pub request_id_label: &'static str,
    pub footer: &'static str,
    // The account pages.
    /// The header link to the sign-in page.
    pub nav_sign_in: &'static str,
    /// The header link to the account page, once signed in.
    pub nav_my_account: &'static str,
    pub sign_up_title: &'static str,
    pub sign_up_intro: &'static str,
    pub phone_label: &'static str,
    pub phone_hint: &'static str,
    pub name_label: &'static str,
    pub password_label: &'static str,
    pub new_password_hint: &'static str,
    pub sign_up_button: &'static str,
    pub have_account: &'static str,
    pub confirm_title: &'static str,
    pub confirm_intro: &'static str,
    pub code_label: &'static str,
    pub confirm_button: &'static str,
    pub have_code: &'static str,
    pub sms_sent_notice: &'static str,
    pub sign_in_title: &'static str,
    pub second_factor_label: &'static str,
    pub second_factor_hint: &'static str,
    pub sign_in_button: &'static str,
    pub no_account: &'static str,
    pub confirmed_notice: &'static str,
    pub signed_out_notice: &'static str,
    pub account_title: &'static str,
    pub roles_label: &'static str,
    pub sessions_heading: &'static str,
    pub sessions_intro: &'static str,
    /// Shown when only the newest sessions fit on the page; `{n}` is how many are not shown.
    pub sessions_more: &'static str,
    pub session_client: &'static str,
    pub session_created: &'static str,
    pub session_last_seen: &'static str,
    pub this_session: &'static str,
    pub close_session_button: &'static str,
    pub sign_out_button: &'static str,
    pub client_web: &'static str,
    pub client_api: &'static str,
    pub just_now: &'static str,
    /// `{n}` is a number of minutes.
    pub minutes_ago: &'static str,
    /// `{n}` is a number of hours.
    pub hours_ago: &'static str,
    /// English only: Spanish pages say exactly what is wrong with the number.
    pub error_phone: &'static str,
    pub error_name: &'static str,
    /// English only: Spanish pages say exactly what is wrong with the password.
    pub error_password: &'static str,
    pub error_code: &'static str,
    pub error_credentials: &'static str,
    pub error_not_active: &'static str,
    pub error_second_factor_missing: &'static str,
    /// English only: Spanish pages say why.
    pub error_second_factor_wrong: &'static str,
    /// `{n}` is a number of minutes.
    pub error_locked: &'static str,
}

pub static SPANISH: Texts = Texts {
    site_title: "Ceiba",
    tagline: "Servicios digitales públicos para todos, también con poca conexión.",
    services_heading: "Servicios",
    pagos_title: "Pagos",
    pagos_body: "Pagos móviles y comercio electrónico: transferencias entre personas, facturas \
        de electricidad, agua, gas y teléfono, impuestos, recargas y pagos con código QR. \
        Funciona desde el navegador, el teléfono inteligente o un teléfono básico por USSD.",
    salud_title: "Salud",
    salud_body: "Vigilancia epidemiológica: casos, pruebas de laboratorio, contactos y evolución \
        por provincia y municipio, tableros diarios y modelos matemáticos de la transmisión.",
    enciclopedia_title: "Enciclopedia",
    enciclopedia_body: "Una enciclopedia colaborativa que se edita en línea y se lleva sin \
        conexión en archivos ZIM.",
    offline_note: "Las páginas son ligeras y funcionan sin JavaScript.",
    switch_label: "English",
    not_found_title: "Página no encontrada",
    error_title: "No se pudo atender la petición",
    back_home: "Volver al inicio",
    request_id_label: "Identificador de la petición",
    footer: "Ceiba, plataforma abierta de servicios digitales públicos.",
    nav_sign_in: "Entrar",
    nav_my_account: "Mi cuenta",
    sign_up_title: "Crear una cuenta",
    sign_up_intro: "Con su número de móvil cubano. Le enviaremos un SMS con un código para confirmarlo.",
    phone_label: "Número de móvil",
    phone_hint: "Por ejemplo +53 5123 4567.",
    name_label: "Nombre",
    password_label: "Contraseña",
    new_password_hint: "Al menos 8 caracteres; mejor una frase de varias palabras.",
    sign_up_button: "Crear la cuenta",
    have_account: "¿Ya tiene cuenta?",
    confirm_title: "Confirmar el número",
    confirm_intro: "Escriba su número y el código de 6 cifras del SMS. El código vence en 10 minutos.",
    code_label: "Código del SMS",
    confirm_button: "Confirmar",
    have_code: "¿Recibió un código por SMS?",
    sms_sent_notice: "Si el número puede registrarse, le enviamos un SMS con un código.",
    sign_in_title: "Entrar",
    second_factor_label: "Segundo factor",
    second_factor_hint: "Solo si activó el segundo factor: el código de su aplicación o un código de recuperación.",
    sign_in_button: "Entrar",
    no_account: "¿No tiene cuenta?",
    confirmed_notice: "Su número quedó confirmado. Ya puede entrar.",
    signed_out_notice: "Cerró la sesión.",
    account_title: "Mi cuenta",
    roles_label: "Roles",
    sessions_heading: "Sesiones abiertas",
    sessions_intro: "Si no reconoce una, ciérrela y cambie su contraseña.",
    sessions_more: "Hay {n} sesiones más, no mostradas.",
    session_client: "Desde",
    session_created: "Abierta",
    session_last_seen: "Último uso",
    this_session: "esta sesión",
    close_session_button: "Cerrar",
    sign_out_button: "Salir",
    client_web: "Navegador",
    client_api: "Aplicación",
    just_now: "hace un momento",
    minutes_ago: "hace {n} min",
    hours_ago: "hace {n} h",
    error_phone: "El número de teléfono no es válido.",
    error_name: "Escriba su nombre: entre 1 y 100 caracteres.",
    error_password: "La contraseña no sirve.",
    error_code: "El código no es válido o venció. Si venció, regístrese de nuevo para recibir otro.",
    error_credentials: "El número de teléfono o la contraseña no son correctos.",
    error_not_active: "La cuenta no está activa: confirme su número con el código del SMS.",
    error_second_factor_missing: "Su cuenta tiene segundo factor: escriba también el código de su aplicación o un código de recuperación.",
    error_second_factor_wrong: "El segundo factor no es correcto.",
    error_locked: "Demasiados intentos fallidos: vuelva a intentarlo dentro de {n} minutos.",
};

pub static ENGLISH: Texts = Texts {
    site_title: "Ceiba",
    tagline: "Public digital services for everyone, even on a poor connection.",
    services_heading: "Services",
    pagos_title: "Payments",
    pagos_body: "Mobile payments and e-commerce: person-to-person transfers, electricity, water, \
        gas and phone bills, taxes, top-ups and QR code payments. Works from a browser, a \
        smartphone or a basic phone over USSD.",
    salud_title: "Health",
    salud_body: "Epidemic surveillance: cases, lab tests, contacts and outcomes by province and \
        municipality, daily dashboards and mathematical models of transmission.",
    enciclopedia_title: "Encyclopedia",
    enciclopedia_body: "A collaborative encyclopedia edited online and carried offline in ZIM \
        files.",
    offline_note: "Pages are light and work without JavaScript.",
    switch_label: "Español",
    not_found_title: "Page not found",
    error_title: "The request could not be served",
    back_home: "Back to the home page",
    request_id_label: "Request identifier",
    footer: "Ceiba, an open platform of public digital services.",
    nav_sign_in: "Sign in",
    nav_my_account: "My account",
    sign_up_title: "Create an account",
    sign_up_intro: "With your Cuban mobile number. We will send it an SMS with a code to confirm it.",
    phone_label: "Mobile number",
    phone_hint: "For example +53 5123 4567.",
    name_label: "Name",
    password_label: "Password",
    new_password_hint: "At least 8 characters; a phrase of several words is best.",
    sign_up_button: "Create the account",
    have_account: "Already have an account?",
    confirm_title: "Confirm your number",
    confirm_intro: "Type your number and the 6-digit code from the SMS. The code expires in 10 minutes.",
    code_label: "Code from the SMS",
    confirm_button: "Confirm",
    have_code: "Did you get a code by SMS?",
    sms_sent_notice: "If the number can be registered, we sent it an SMS with a code.",
    sign_in_title: "Sign in",
    second_factor_label: "Second factor",
    second_factor_hint: "Only if you turned on the second factor: the code from your app or a recovery code.",
    sign_in_button: "Sign in",
    no_account: "No account yet?",
    confirmed_notice: "Your number is confirmed. You can sign in now.",
    signed_out_notice: "You signed out.",
    account_title: "My account",
    roles_label: "Roles",
    sessions_heading: "Open sessions",
    sessions_intro: "If you do not recognise one, close it and change your password.",
    sessions_more: "There are {n} more sessions, not shown.",
    session_client: "From",
    session_created: "Opened",
    session_last_seen: "Last used",
    this_session: "this session",
    close_session_button: "Close",
    sign_out_button: "Sign out",
    client_web: "Browser",
    client_api: "App",
    just_now: "just now",
    minutes_ago: "{n} min ago",
    hours_ago: "{n} h ago",
    error_phone: "The phone number is not valid: type a Cuban mobile number, such as +53 5123 4567.",
    error_name: "Type your name: 1 to 100 characters.",
    error_password: "That password cannot be used: it needs 8 to 128 characters and must not be a common one.",
    error_code: "The code is not valid or has expired. If it expired, register again to get a new one.",
    error_credentials: "The phone number or the password is not correct.",
    error_not_active: "The account is not active: confirm your number with the code from the SMS.",
    error_second_factor_missing: "Your account has a second factor: also type the code from your app or a recovery code.",
    error_second_factor_wrong: "The second factor is not correct, or was already used.",
    error_locked: "Too many failed attempts: try again in {n} minutes.",
};

/// Everything the Pagos pages (`/pagos`) say, in one language. Refusals come from the error
/// table: Spanish pages show the service's own sentence, English pages the table's.
#[derive(Debug)]
pub struct PagosTexts {
    pub title: &'static str,
    pub balances_heading: &'static str,
    /// Beside a balance when operations not yet settled hold part of it; `{amount}`.
    pub held: &'static str,
    pub recent_heading: &'static str,
    pub no_operations: &'static str,
    pub all_in_statement: &'static str,
    pub send_link: &'static str,
    pub bills_link: &'static str,
    pub top_up_link: &'static str,
    pub statement_link: &'static str,
    pub back_link: &'static str,
    pub col_date: &'static str,
    pub col_operation: &'static str,
    pub col_amount: &'static str,
    pub col_status: &'static str,
    pub status_completed: &'static str,
    pub status_pending: &'static str,
    pub status_refused: &'static str,
    pub kind_person_to_person: &'static str,
    pub kind_cash_in: &'static str,
    pub kind_cash_out: &'static str,
    pub kind_bill: &'static str,
    pub kind_tax: &'static str,
    pub kind_top_up: &'static str,
    pub kind_merchant: &'static str,
    pub kind_refund: &'static str,
    // Sending money.
    pub send_title: &'static str,
    pub send_intro: &'static str,
    pub recipient_label: &'static str,
    pub currency_label: &'static str,
    pub amount_label: &'static str,
    pub amount_hint: &'static str,
    pub note_label: &'static str,
    pub note_hint: &'static str,
    /// The note as shown on a confirmation or a receipt.
    pub note_shown_label: &'static str,
    pub continue_button: &'static str,
    pub confirm_title: &'static str,
    pub confirm_intro: &'static str,
    pub to_label: &'static str,
    pub from_label: &'static str,
    pub fee_label: &'static str,
    pub total_label: &'static str,
    pub confirm_button: &'static str,
    pub change_button: &'static str,
    // Receipts.
    pub receipt_title: &'static str,
    pub pending_title: &'static str,
    pub refused_title: &'static str,
    pub pending_body: &'static str,
    pub operation_label: &'static str,
    pub date_label: &'static str,
    pub id_label: &'static str,
    pub code_label: &'static str,
    pub balance_after_label: &'static str,
    pub reason_label: &'static str,
    pub verify_hint: &'static str,
    pub print_hint: &'static str,
    // Bills and top-ups.
    pub bills_title: &'static str,
    pub bills_intro: &'static str,
    pub biller_label: &'static str,
    pub reference_label: &'static str,
    pub reference_hint: &'static str,
    pub look_up_button: &'static str,
    pub bill_heading: &'static str,
    pub customer_label: &'static str,
    pub due_label: &'static str,
    pub period_label: &'static str,
    pub pay_button: &'static str,
    pub bill_paid: &'static str,
    pub top_up_title: &'static str,
    pub top_up_intro: &'static str,
    pub service_label: &'static str,
    pub service_mobile: &'static str,
    pub service_nauta: &'static str,
    pub top_up_account_label: &'static str,
    pub top_up_account_hint: &'static str,
    /// `{mobile}`: the mobile denominations; `{min}`, `{max}`: Nauta's bounds.
    pub top_up_amount_hint: &'static str,
    pub top_up_button: &'static str,
    // The statement.
    pub statement_title: &'static str,
    pub holder_label: &'static str,
    pub from_date_label: &'static str,
    pub to_date_label: &'static str,
    pub show_button: &'static str,
    pub csv_link: &'static str,
    pub money_in: &'static str,
    pub money_out: &'static str,
    pub no_operations_in_period: &'static str,
    // Linked bank accounts.
    pub accounts_link: &'static str,
    pub accounts_title: &'static str,
    pub accounts_intro: &'static str,
    pub no_accounts: &'static str,
    pub bank_label: &'static str,
    pub alias_label: &'static str,
    pub alias_hint: &'static str,
    pub account_number_label: &'static str,
    pub account_number_hint: &'static str,
    pub link_heading: &'static str,
    pub link_button: &'static str,
    pub unlink_button: &'static str,
    pub direction_label: &'static str,
    pub deposit_option: &'static str,
    pub withdraw_option: &'static str,
    pub move_button: &'static str,
    // Paying and charging with QR codes.
    pub qr_link: &'static str,
    pub qr_title: &'static str,
    pub qr_intro: &'static str,
    pub qr_code_label: &'static str,
    pub qr_amount_hint: &'static str,
    pub qr_confirm_title: &'static str,
    pub qr_pay_button: &'static str,
    pub merchant_title: &'static str,
    pub merchant_intro: &'static str,
    pub merchant_none: &'static str,
    pub merchant_pending: &'static str,
    pub merchant_rejected: &'static str,
    pub merchant_charge_button: &'static str,
    pub merchant_reference_label: &'static str,
    pub merchant_code_heading: &'static str,
    pub merchant_code_paid: &'static str,
    pub merchant_code_waiting: &'static str,
    pub merchant_payments_heading: &'static str,
    pub merchant_no_payments: &'static str,
    pub merchant_today_heading: &'static str,
    pub merchant_received_label: &'static str,
    pub merchant_refunded_label: &'static str,
    pub merchant_net_label: &'static str,
}

pub static PAGOS_SPANISH: PagosTexts = PagosTexts {
    title: "Pagos",
    balances_heading: "Saldo disponible",
    held: "retenido en operaciones en curso: {amount}",
    recent_heading: "Últimas operaciones",
    no_operations: "Aún no hay operaciones.",
    all_in_statement: "Todas, en el extracto",
    send_link: "Enviar dinero",
    bills_link: "Pagar una factura",
    top_up_link: "Recargar un móvil o Nauta",
    statement_link: "Extracto",
    back_link: "Volver a Pagos",
    col_date: "Fecha",
    col_operation: "Operación",
    col_amount: "Importe",
    col_status: "Estado",
    status_completed: "Completada",
    status_pending: "En curso",
    status_refused: "Rechazada",
    kind_person_to_person: "Transferencia",
    kind_cash_in: "Depósito",
    kind_cash_out: "Extracción",
    kind_bill: "Factura",
    kind_tax: "Impuestos",
    kind_top_up: "Recarga",
    kind_merchant: "Pago a comercio",
    kind_refund: "Devolución de un comercio",
    send_title: "Enviar dinero",
    send_intro: "Al número de móvil de otra persona con cuenta en Ceiba. Antes de enviar verá su nombre para comprobarlo.",
    recipient_label: "Número de móvil de quien recibe",
    currency_label: "Moneda",
    amount_label: "Importe",
    amount_hint: "Por ejemplo 150 o 150,50.",
    note_label: "Nota (opcional)",
    note_hint: "La verá quien recibe. Hasta 140 caracteres.",
    note_shown_label: "Nota",
    continue_button: "Continuar",
    confirm_title: "Compruebe antes de enviar",
    confirm_intro: "Compruebe el nombre: el dinero enviado llega al momento y no se puede devolver desde aquí.",
    to_label: "Para",
    from_label: "De",
    fee_label: "Comisión",
    total_label: "Total",
    confirm_button: "Enviar",
    change_button: "Corregir",
    receipt_title: "Recibo",
    pending_title: "Operación en curso",
    refused_title: "Operación rechazada",
    pending_body: "La operación aún no ha terminado: el dinero está retenido hasta que se confirme. Si no se confirma a tiempo, vuelve a su saldo y se lo avisamos por SMS. Vuelva a cargar esta página en unos minutos.",
    operation_label: "Operación",
    date_label: "Fecha",
    id_label: "Número de operación",
    code_label: "Código de verificación",
    balance_after_label: "Saldo tras la operación",
    reason_label: "Motivo",
    verify_hint: "Quien tenga este recibo puede comprobarlo con el número de operación y el código de verificación en /api/v1/payments/receipts.",
    print_hint: "Para guardarlo, imprima esta página desde el navegador.",
    bills_title: "Pagar una factura",
    bills_intro: "Electricidad, agua, gas, teléfono, impuestos y multas. Escriba la referencia impresa en la factura y verá el importe antes de pagar.",
    biller_label: "Emisor",
    reference_label: "Referencia",
    reference_hint: "Tal como aparece en la factura, por ejemplo F-2026-0001.",
    look_up_button: "Buscar la factura",
    bill_heading: "Factura",
    customer_label: "A nombre de",
    due_label: "Vence",
    period_label: "Periodo",
    pay_button: "Pagar",
    bill_paid: "Esta factura ya está pagada.",
    top_up_title: "Recargar un móvil o una cuenta Nauta",
    top_up_intro: "El saldo llega al momento; se paga en CUP desde su monedero.",
    service_label: "Servicio",
    service_mobile: "Móvil",
    service_nauta: "Nauta",
    top_up_account_label: "Número o cuenta Nauta",
    top_up_account_hint: "Un móvil: +53 5123 4567. Nauta: usuario@nauta.com.cu.",
    top_up_amount_hint: "Móvil: {mobile}. Nauta: de {min} a {max}.",
    top_up_button: "Recargar",
    statement_title: "Extracto",
    holder_label: "Titular",
    from_date_label: "Desde",
    to_date_label: "Hasta",
    show_button: "Ver",
    csv_link: "Descargar en CSV (hoja de cálculo)",
    money_in: "Entradas",
    money_out: "Salidas",
    no_operations_in_period: "No hay operaciones en este periodo.",
    accounts_link: "Cuentas bancarias",
    accounts_title: "Cuentas bancarias vinculadas",
    accounts_intro: "Deposite desde una cuenta de su banco en su monedero, o extraiga del monedero \
                     a la cuenta. Del número solo se guardan las cuatro últimas cifras.",
    no_accounts: "Aún no ha vinculado ninguna cuenta.",
    bank_label: "Banco",
    alias_label: "Nombre para reconocerla",
    alias_hint: "Por ejemplo: Ahorros, Tarjeta del salario.",
    account_number_label: "Número de cuenta",
    account_number_hint: "Las 16 cifras que trae la tarjeta o la libreta.",
    link_heading: "Vincular una cuenta",
    link_button: "Vincular",
    unlink_button: "Desvincular",
    direction_label: "Operación",
    deposit_option: "Depositar en el monedero",
    withdraw_option: "Extraer a la cuenta",
    move_button: "Hacer la operación",
    qr_link: "Pagar con código QR",
    qr_title: "Pagar con código QR",
    qr_intro: "Escanee el código del comercio y pegue aquí el texto que leyó la cámara.",
    qr_code_label: "Texto del código",
    qr_amount_hint: "Solo si el código no trae importe.",
    qr_confirm_title: "Compruebe antes de pagar",
    qr_pay_button: "Pagar",
    merchant_title: "Mi comercio",
    merchant_intro: "Cobre con un código QR: el cliente lo escanea y paga desde su monedero. Esta página se actualiza sola.",
    merchant_none: "No tiene comercios. Solicite uno con POST /api/v1/merchants.",
    merchant_pending: "Solicitud pendiente de aprobación.",
    merchant_rejected: "Solicitud rechazada:",
    merchant_charge_button: "Mostrar código para cobrar",
    merchant_reference_label: "Referencia (mesa, pedido)",
    merchant_code_heading: "Código para cobrar",
    merchant_code_paid: "Pagado.",
    merchant_code_waiting: "Esperando el pago…",
    merchant_payments_heading: "Últimos cobros",
    merchant_no_payments: "Aún no hay cobros.",
    merchant_today_heading: "Hoy",
    merchant_received_label: "cobrado",
    merchant_refunded_label: "devuelto",
    merchant_net_label: "neto",
};

pub static PAGOS_ENGLISH: PagosTexts = PagosTexts {
    title: "Payments",
    balances_heading: "Available balance",
    held: "held by operations in progress: {amount}",
    recent_heading: "Latest operations",
    no_operations: "No operations yet.",
    all_in_statement: "All of them, in the statement",
    send_link: "Send money",
    bills_link: "Pay a bill",
    top_up_link: "Top up a phone or Nauta",
    statement_link: "Statement",
    back_link: "Back to Payments",
    col_date: "Date",
    col_operation: "Operation",
    col_amount: "Amount",
    col_status: "Status",
    status_completed: "Completed",
    status_pending: "In progress",
    status_refused: "Refused",
    kind_person_to_person: "Transfer",
    kind_cash_in: "Deposit",
    kind_cash_out: "Withdrawal",
    kind_bill: "Bill",
    kind_tax: "Taxes",
    kind_top_up: "Top-up",
    kind_merchant: "Payment to a shop",
    kind_refund: "Refund from a shop",
    send_title: "Send money",
    send_intro: "To the mobile number of another person with a Ceiba account. Before sending you will see their name, to check it.",
    recipient_label: "Mobile number of the recipient",
    currency_label: "Currency",
    amount_label: "Amount",
    amount_hint: "For example 150 or 150.50.",
    note_label: "Note (optional)",
    note_hint: "The recipient sees it. Up to 140 characters.",
    note_shown_label: "Note",
    continue_button: "Continue",
    confirm_title: "Check before sending",
    confirm_intro: "Check the name: money sent arrives at once and cannot be returned from here.",
    to_label: "To",
    from_label: "From",
    fee_label: "Fee",
    total_label: "Total",
    confirm_button: "Send",
    change_button: "Change",
    receipt_title: "Receipt",
    pending_title: "Operation in progress",
    refused_title: "Operation refused",
    pending_body: "The operation has not finished yet: the money is held until it is confirmed. If it is not confirmed in time, the money goes back to your balance and we tell you by SMS. Reload this page in a few minutes.",
    operation_label: "Operation",
    date_label: "Date",
    id_label: "Operation number",
    code_label: "Verification code",
    balance_after_label: "Balance after the operation",
    reason_label: "Reason",
    verify_hint: "Whoever holds this receipt can check it with the operation number and the verification code at /api/v1/payments/receipts.",
    print_hint: "To keep it, print this page from the browser.",
    bills_title: "Pay a bill",
    bills_intro: "Electricity, water, gas, telephone, taxes and fines. Type the reference printed on the bill and you will see the amount before paying.",
    biller_label: "Biller",
    reference_label: "Reference",
    reference_hint: "As printed on the bill, for example F-2026-0001.",
    look_up_button: "Look the bill up",
    bill_heading: "Bill",
    customer_label: "In the name of",
    due_label: "Due",
    period_label: "Period",
    pay_button: "Pay",
    bill_paid: "This bill is already paid.",
    top_up_title: "Top up a phone or a Nauta account",
    top_up_intro: "The credit arrives at once; it is paid in CUP from your wallet.",
    service_label: "Service",
    service_mobile: "Mobile",
    service_nauta: "Nauta",
    top_up_account_label: "Number or Nauta account",
    top_up_account_hint: "A phone: +53 5123 4567. Nauta: user@nauta.com.cu.",
    top_up_amount_hint: "Mobile: {mobile}. Nauta: from {min} to {max}.",
    top_up_button: "Top up",
    statement_title: "Statement",
    holder_label: "Holder",
    from_date_label: "From",
    to_date_label: "To",
    show_button: "Show",
    csv_link: "Download as CSV (spreadsheet)",
    money_in: "Money in",
    money_out: "Money out",
    no_operations_in_period: "No operations in this period.",
    accounts_link: "Bank accounts",
    accounts_title: "Linked bank accounts",
    accounts_intro: "Deposit from an account at your bank into your wallet, or withdraw from the \
                     wallet to the account. Only the last four digits of the number are kept.",
    no_accounts: "You have not linked any account yet.",
    bank_label: "Bank",
    alias_label: "A name to recognise it",
    alias_hint: "For example: Savings, Salary card.",
    account_number_label: "Account number",
    account_number_hint: "The 16 digits on the card or the passbook.",
    link_heading: "Link an account",
    link_button: "Link",
    unlink_button: "Unlink",
    direction_label: "Operation",
    deposit_option: "Deposit into the wallet",
    withdraw_option: "Withdraw to the account",
    move_button: "Do it",
    qr_link: "Pay with a QR code",
    qr_title: "Pay with a QR code",
    qr_intro: "Scan the shop's code and paste here the text the camera read.",
    qr_code_label: "The code's text",
    qr_amount_hint: "Only if the code carries no amount.",
    qr_confirm_title: "Check before paying",
    qr_pay_button: "Pay",
    merchant_title: "My shop",
    merchant_intro: "Charge with a QR code: the customer scans it and pays from their wallet. This page refreshes by itself.",
    merchant_none: "You have no shop. Apply for one with POST /api/v1/merchants.",
    merchant_pending: "Application waiting for approval.",
    merchant_rejected: "Application rejected:",
    merchant_charge_button: "Show a code to charge",
    merchant_reference_label: "Reference (table, order)",
    merchant_code_heading: "Code to charge",
    merchant_code_paid: "Paid.",
    merchant_code_waiting: "Waiting for the payment…",
    merchant_payments_heading: "Latest payments",
    merchant_no_payments: "No payments yet.",
    merchant_today_heading: "Today",
    merchant_received_label: "received",
    merchant_refunded_label: "refunded",
    merchant_net_label: "net",
};

#[cfg(test)]
mod tests {
    use super::*;

    /// The `lang` parameter, the cookie, `Accept-Language`, and the language expected.
    type Case = (
        Option<&'static str>,
        Option<&'static str>,
        Option<&'static str>,
        Lang,
    );

    #[test]
    fn negotiation_prefers_choice_then_cookie_then_browser_then_spanish() {
        let cases: &[Case] = &[
            (None, None, None, Lang::Es),
            (None, None, Some("en-US,en;q=0.9"), Lang::En),
            (None, None, Some("fr-FR, en;q=0.5, es;q=0.8"), Lang::Es),
            (None, None, Some("de, fr"), Lang::Es),
            (None, None, Some("es;q=0, en;q=0.1"), Lang::En),
            (None, None, Some("en;q=abc, es"), Lang::Es),
            (None, Some("en"), Some("es"), Lang::En),
            (Some("es"), Some("en"), Some("en"), Lang::Es),
            (Some("xx"), Some("en"), None, Lang::En),
            (None, None, Some("EN_gb"), Lang::En),
        ];
        for (query, cookie, accept, expected) in cases {
            assert_eq!(
                Lang::negotiate(*query, *cookie, *accept),
                *expected,
                "query={query:?} cookie={cookie:?} accept={accept:?}"
            );
        }
    }
}
