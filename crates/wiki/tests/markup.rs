//! Wikitext rendering through the public API: a table of inputs and the exact HTML expected
//! (hostile inputs included), the metadata collected, titles, redirects, limits, random
//! wikitext checked for safety, and the real pages of a MediaWiki export.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use ceiba_wiki::markup::{
    MAX_INPUT_BYTES, MAX_TEMPLATE_DEPTH, MarkupError, Namespace, RenderContext, Title, TitleError,
    normalize_title, redirect_target, render,
};
use proptest::prelude::*;

/// Pages and templates of a small test encyclopedia.
#[derive(Debug, Default)]
struct Wiki {
    pages: HashSet<String>,
    templates: HashMap<String, String>,
    current: Option<Title>,
}

impl RenderContext for Wiki {
    fn page_exists(&self, title: &Title) -> bool {
        self.pages.contains(&title.text())
    }

    fn template(&self, title: &Title) -> Option<String> {
        self.templates.get(&title.text()).cloned()
    }

    fn page_title(&self) -> Option<Title> {
        self.current.clone()
    }
}

/// A host whose page addresses are its own, or hostile.
#[derive(Debug)]
struct Host(&'static str);

impl RenderContext for Host {
    fn page_exists(&self, _: &Title) -> bool {
        true
    }

    fn template(&self, _: &Title) -> Option<String> {
        None
    }

    fn page_url(&self, title: &Title) -> String {
        format!("{}{}", self.0, title.key())
    }
}

fn wiki() -> Wiki {
    let pages = ["Cuba", "La Habana", "José Martí", "Casa"];
    let mut templates: Vec<(String, String)> = [
        ("Saludo", "¡Hola, {{{1|mundo}}}!"),
        (
            "Ficha",
            "{| class=\"infobox\"\n|+ {{{nombre}}}\n|-\n! Capital\n| {{{capital|?}}}\n|}",
        ),
        ("Bucle", "a{{Bucle}}"),
        ("Ping", "{{Pong}}"),
        ("Pong", "{{Ping}}"),
        ("Malvada", "<script>alert(1)</script>"),
        ("Si", "{{#if:{{{1|}}}|sí|no}}"),
        ("Igual", "{{#ifeq:{{{1}}}|01|uno|otro}}"),
        (
            "Elegir",
            "{{#switch:{{{1}}}|a=Alfa|b|c=Beta o Ce|#default=Otro}}",
        ),
        (
            "Incluir",
            "<noinclude>documentación</noinclude>visible<includeonly>!</includeonly>",
        ),
        ("Solo", "fuera<onlyinclude>dentro</onlyinclude>fuera"),
        ("Lista", "* uno\n* dos"),
        ("Función", "{{#invoke:Módulo|f}}"),
        ("Cita", "<ref>Nota de plantilla</ref>"),
    ]
    .into_iter()
    .map(|(name, body)| (format!("Plantilla:{name}"), body.to_owned()))
    .collect();
    // A chain of exactly MAX_TEMPLATE_DEPTH templates, and one a level longer.
    for level in 1..=MAX_TEMPLATE_DEPTH {
        let body = if level == MAX_TEMPLATE_DEPTH {
            "fondo".to_owned()
        } else {
            format!("{{{{N{}}}}}", level + 1)
        };
        templates.push((format!("Plantilla:N{level}"), body));
        let body = format!("{{{{M{}}}}}", level + 1);
        templates.push((format!("Plantilla:M{level}"), body));
    }
    templates.push((
        format!("Plantilla:M{}", MAX_TEMPLATE_DEPTH + 1),
        "fondo".to_owned(),
    ));
    Wiki {
        current: None,
        pages: pages.iter().map(|page| (*page).to_owned()).collect(),
        templates: templates.into_iter().collect(),
    }
}

/// A strict reader of the renderer's output: only known elements, properly nested; only
/// whitelisted attributes, double-quoted, with no markup inside; links only to site paths,
/// fragments, http(s) and mailto; no raw `>`, `"` or stray `&` in text.
fn check_html(html: &str) -> Result<(), String> {
    const ELEMENTS: &[&str] = &[
        "p", "h1", "h2", "h3", "h4", "h5", "h6", "a", "b", "i", "ul", "ol", "li", "dl", "dt", "dd",
        "hr", "br", "pre", "table", "caption", "tr", "th", "td", "sup", "sub", "small", "big",
        "code", "s", "u", "del", "ins", "em", "strong", "span",
    ];
    const ATTRIBUTES: &[&str] = &[
        "href", "class", "title", "id", "rel", "colspan", "rowspan", "start",
    ];
    const HREF_STARTS: &[&str] = &["/", "#", "http://", "https://", "mailto:"];
    let mut open: Vec<String> = Vec::new();
    let mut i = 0;
    let bytes = html.as_bytes();
    while i < bytes.len() {
        match bytes[i] {
            b'>' | b'"' => {
                return Err(format!(
                    "«{}» sin escapar en la posición {i}",
                    char::from(bytes[i])
                ));
            }
            b'&' => {
                let end = html[i..]
                    .find(';')
                    .ok_or_else(|| format!("& suelto en {i}"))?;
                let name = &html[i + 1..i + end];
                if name.is_empty()
                    || name.len() > 10
                    || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '#')
                {
                    return Err(format!("entidad inválida en {i}"));
                }
                i += end + 1;
            }
            b'<' => {
                let end = html[i..]
                    .find('>')
                    .ok_or_else(|| format!("etiqueta sin cerrar en {i}"))?
                    + i;
                let tag = &html[i + 1..end];
                if tag.contains('<') {
                    return Err(format!("«<» dentro de una etiqueta en {i}"));
                }
                let (closing, tag) = match tag.strip_prefix('/') {
                    Some(tag) => (true, tag),
                    None => (false, tag),
                };
                let name_end = tag.find(' ').unwrap_or(tag.len());
                let name = &tag[..name_end];
                if !ELEMENTS.contains(&name) {
                    return Err(format!("elemento no permitido «{name}» en {i}"));
                }
                let mut attributes = &tag[name_end..];
                while !attributes.is_empty() {
                    let rest = attributes
                        .strip_prefix(' ')
                        .ok_or("atributo mal separado")?;
                    let (attribute, rest) = rest.split_once("=\"").ok_or("atributo sin valor")?;
                    let (value, rest) = rest.split_once('"').ok_or("valor sin cerrar")?;
                    if !ATTRIBUTES.contains(&attribute) || closing {
                        return Err(format!("atributo no permitido «{attribute}» en {i}"));
                    }
                    if attribute == "href"
                        && !HREF_STARTS.iter().any(|start| value.starts_with(start))
                    {
                        return Err(format!("href peligroso «{value}»"));
                    }
                    if value.contains(['<', '>']) {
                        return Err(format!("marcado dentro de un atributo en {i}"));
                    }
                    attributes = rest;
                }
                if matches!(name, "br" | "hr") {
                    // Void elements.
                } else if closing {
                    match open.pop() {
                        Some(top) if top == name => {}
                        other => return Err(format!("</{name}> cierra {other:?} en {i}")),
                    }
                } else {
                    open.push(name.to_owned());
                }
                i = end + 1;
            }
            _ => i += 1,
        }
    }
    if open.is_empty() {
        Ok(())
    } else {
        Err(format!("elementos sin cerrar: {open:?}"))
    }
}

/// The rendering table: (what it shows, wikitext, exact HTML without the final line break).
const TABLE: &[(&str, &str, &str)] = &[
    ("párrafo", "Hola mundo", "<p>Hola mundo</p>"),
    (
        "párrafos",
        "Uno\ndos\n\nTres",
        "<p>Uno\ndos</p>\n<p>Tres</p>",
    ),
    ("h2", "== Historia ==", "<h2 id=\"Historia\">Historia</h2>"),
    (
        "h3 y h6",
        "=== Siglo XIX ===\n====== Seis ======",
        "<h3 id=\"Siglo_XIX\">Siglo XIX</h3>\n<h6 id=\"Seis\">Seis</h6>",
    ),
    (
        "título desparejo",
        "=== Tres ==",
        "<h2 id=\"=_Tres\">= Tres</h2>",
    ),
    (
        "cursiva y negrita",
        "''cursiva'' y '''negrita'''",
        "<p><i>cursiva</i> y <b>negrita</b></p>",
    ),
    ("ambas", "'''''ambas'''''", "<p><i><b>ambas</b></i></p>"),
    (
        "negrita dentro",
        "''a '''b''' c''",
        "<p><i>a <b>b</b> c</i></p>",
    ),
    (
        "sin cerrar",
        "''sin cerrar\notra",
        "<p><i>sin cerrar</i>\notra</p>",
    ),
    (
        "apóstrofo y cursiva",
        "l'''amour''",
        "<p>l&#39;<i>amour</i></p>",
    ),
    (
        "enlace",
        "[[Cuba]]",
        "<p><a href=\"/wiki/Cuba\" title=\"Cuba\">Cuba</a></p>",
    ),
    (
        "enlace con texto",
        "[[cuba|la isla]]",
        "<p><a href=\"/wiki/Cuba\" title=\"Cuba\">la isla</a></p>",
    ),
    (
        "enlace a sección",
        "[[La_Habana#Historia antigua|historia]]",
        "<p><a href=\"/wiki/La_Habana#Historia_antigua\" title=\"La Habana\">historia</a></p>",
    ),
    (
        "letras pegadas",
        "[[casa]]s",
        "<p><a href=\"/wiki/Casa\" title=\"Casa\">casas</a></p>",
    ),
    (
        "acentos codificados",
        "[[José Martí]]",
        "<p><a href=\"/wiki/Jos%C3%A9_Mart%C3%AD\" title=\"José Martí\">José Martí</a></p>",
    ),
    (
        "enlace rojo",
        "[[Página nueva]]",
        "<p><a href=\"/wiki/P%C3%A1gina_nueva?accion=editar\" class=\"nuevo\" title=\"Página nueva (la página no existe)\">Página nueva</a></p>",
    ),
    (
        "sección de la página",
        "[[#Historia|arriba]]",
        "<p><a href=\"#Historia\">arriba</a></p>",
    ),
    (
        "categoría no se muestra",
        "Texto[[Categoría:Historia de Cuba]]",
        "<p>Texto</p>",
    ),
    (
        "línea de categorías",
        "Texto\n[[Category:Historia]]",
        "<p>Texto</p>",
    ),
    (
        "enlace a categoría",
        "[[:Categoría:Historia]]",
        "<p><a href=\"/wiki/Categor%C3%ADa:Historia?accion=editar\" class=\"nuevo\" title=\"Categoría:Historia (la página no existe)\">Categoría:Historia</a></p>",
    ),
    (
        "archivo",
        "[[Archivo:Mapa.png|miniatura|200px|Mapa de [[Cuba]]]]",
        "<p><a href=\"/wiki/Archivo:Mapa.png\" class=\"archivo\" title=\"Archivo:Mapa.png\">Mapa de Cuba</a></p>",
    ),
    (
        "archivo sin leyenda",
        "[[File:mapa.png|thumb]]",
        "<p><a href=\"/wiki/Archivo:Mapa.png\" class=\"archivo\" title=\"Archivo:Mapa.png\">Archivo:Mapa.png</a></p>",
    ),
    (
        "enlace externo",
        "[https://ejemplo.org Ejemplo ''bueno'']",
        "<p><a class=\"externo\" rel=\"nofollow noopener\" href=\"https://ejemplo.org\">Ejemplo <i>bueno</i></a></p>",
    ),
    (
        "externo numerado",
        "[http://a.cu] [http://b.cu]",
        "<p><a class=\"externo\" rel=\"nofollow noopener\" href=\"http://a.cu\">[1]</a> <a class=\"externo\" rel=\"nofollow noopener\" href=\"http://b.cu\">[2]</a></p>",
    ),
    (
        "URL suelta",
        "Ver https://ejemplo.org/a?b=1&c=2.",
        "<p>Ver <a class=\"externo\" rel=\"nofollow noopener\" href=\"https://ejemplo.org/a?b=1&amp;c=2\">https://ejemplo.org/a?b=1&amp;c=2</a>.</p>",
    ),
    (
        "mailto",
        "[mailto:info@ejemplo.cu escribir]",
        "<p><a class=\"externo\" rel=\"nofollow noopener\" href=\"mailto:info@ejemplo.cu\">escribir</a></p>",
    ),
    (
        "lista anidada",
        "* a\n* b\n** c\n* d",
        "<ul><li>a</li><li>b<ul><li>c</li></ul></li><li>d</li></ul>",
    ),
    (
        "lista numerada",
        "# uno\n# dos",
        "<ol><li>uno</li><li>dos</li></ol>",
    ),
    (
        "definiciones",
        "; Término : Definición\n: Más",
        "<dl><dt>Término</dt><dd>Definición</dd><dd>Más</dd></dl>",
    ),
    ("sangría", ": sangría", "<dl><dd>sangría</dd></dl>"),
    (
        "lista mixta",
        "*# mixto",
        "<ul><li><ol><li>mixto</li></ol></li></ul>",
    ),
    (
        "lista y párrafo",
        "* a\ntexto",
        "<ul><li>a</li></ul>\n<p>texto</p>",
    ),
    (
        "raya",
        "antes\n----\ndespués",
        "<p>antes</p>\n<hr>\n<p>después</p>",
    ),
    (
        "preformateado",
        " código ''sí''",
        "<pre>código <i>sí</i></pre>",
    ),
    (
        "nowiki",
        "<nowiki>''no'' [[Cuba]]</nowiki>",
        "<p>&#39;&#39;no&#39;&#39; [[Cuba]]</p>",
    ),
    (
        "nowiki vacío corta el enlace",
        "[[Casa]]<nowiki/>s",
        "<p><a href=\"/wiki/Casa\" title=\"Casa\">Casa</a>s</p>",
    ),
    ("comentario", "a<!-- oculto [[Cuba]] -->b", "<p>ab</p>"),
    ("comentario sin cerrar", "a<!-- hasta el final", "<p>a</p>"),
    (
        "pre",
        "<pre>x < y\n[[Cuba]]</pre>",
        "<pre>x &lt; y\n[[Cuba]]</pre>",
    ),
    (
        "referencias",
        "Dato<ref>Fuente A</ref> y otro<ref name=\"b\">Fuente ''B''</ref>, otra vez<ref name=b />\n\n<references/>",
        "<p>Dato<sup class=\"referencia\" id=\"cite_ref-1\"><a href=\"#cite_note-1\">[1]</a></sup> y otro<sup class=\"referencia\" id=\"cite_ref-2\"><a href=\"#cite_note-2\">[2]</a></sup>, otra vez<sup class=\"referencia\" id=\"cite_ref-2-1\"><a href=\"#cite_note-2\">[2]</a></sup></p>\n<ol class=\"referencias\"><li id=\"cite_note-1\"><a href=\"#cite_ref-1\">↑</a> Fuente A</li><li id=\"cite_note-2\"><a href=\"#cite_ref-2\">↑</a> <a href=\"#cite_ref-2-1\">↑</a> Fuente <i>B</i></li></ol>",
    ),
    (
        "referencias al final",
        "Nota<ref>[[Cuba]]</ref>",
        "<p>Nota<sup class=\"referencia\" id=\"cite_ref-1\"><a href=\"#cite_note-1\">[1]</a></sup></p>\n<ol class=\"referencias\"><li id=\"cite_note-1\"><a href=\"#cite_ref-1\">↑</a> <a href=\"/wiki/Cuba\" title=\"Cuba\">Cuba</a></li></ol>",
    ),
    (
        "referencia definida en la lista",
        "X<ref name=\"a\"/>\n<references>\n<ref name=\"a\">Definida abajo</ref>\n</references>",
        "<p>X<sup class=\"referencia\" id=\"cite_ref-1\"><a href=\"#cite_note-1\">[1]</a></sup></p>\n<ol class=\"referencias\"><li id=\"cite_note-1\"><a href=\"#cite_ref-1\">↑</a> Definida abajo</li></ol>",
    ),
    (
        "tabla",
        "{| class=\"wikitable\"\n|+ Provincias\n|-\n! Nombre !! Capital\n|-\n| Matanzas || Matanzas\n|-\n| colspan=\"2\" | Total\n|}",
        "<table class=\"wikitable\">\n<caption>Provincias</caption>\n<tr>\n<th>Nombre</th>\n<th>Capital</th>\n</tr>\n<tr>\n<td>Matanzas</td>\n<td>Matanzas</td>\n</tr>\n<tr>\n<td colspan=\"2\">Total</td>\n</tr>\n</table>",
    ),
    (
        "tabla con celdas de varias líneas",
        "{|\n|\n* uno\n* dos\n| [[Cuba|isla]]\n|}",
        "<table>\n<tr>\n<td><ul><li>uno</li><li>dos</li></ul></td>\n<td><a href=\"/wiki/Cuba\" title=\"Cuba\">isla</a></td>\n</tr>\n</table>",
    ),
    (
        "tabla anidada",
        "{|\n| fuera\n{|\n| dentro\n|}\n|}",
        "<table>\n<tr>\n<td><p>fuera</p>\n<table>\n<tr>\n<td>dentro</td>\n</tr>\n</table></td>\n</tr>\n</table>",
    ),
    (
        "plantilla",
        "{{Saludo}} {{saludo|Cuba}}",
        "<p>¡Hola, mundo! ¡Hola, Cuba!</p>",
    ),
    (
        "ficha",
        "{{Ficha|nombre=Cuba|capital=[[La Habana|Habana]]}}",
        "<table class=\"infobox\">\n<caption>Cuba</caption>\n<tr>\n<th>Capital</th>\n<td><a href=\"/wiki/La_Habana\" title=\"La Habana\">Habana</a></td>\n</tr>\n</table>",
    ),
    ("#if", "{{Si|x}} {{Si}} {{Si| }}", "<p>sí no no</p>"),
    (
        "#ifeq numérico",
        "{{Igual|1}} {{Igual|2}}",
        "<p>uno otro</p>",
    ),
    (
        "#switch",
        "{{Elegir|a}} {{Elegir|b}} {{Elegir|z}}",
        "<p>Alfa Beta o Ce Otro</p>",
    ),
    ("noinclude e includeonly", "{{Incluir}}", "<p>visible!</p>"),
    ("onlyinclude", "{{Solo}}", "<p>dentro</p>"),
    (
        "plantilla de bloque tras texto",
        "Antes {{Lista}}",
        "<p>Antes</p>\n<ul><li>uno</li><li>dos</li></ul>",
    ),
    (
        "plantilla que falta",
        "{{No existe}}",
        "<p><a href=\"/wiki/Plantilla:No_existe?accion=editar\" class=\"nuevo\" title=\"Plantilla:No existe (la página no existe)\">Plantilla:No existe</a></p>",
    ),
    (
        "bucle de plantillas",
        "{{Bucle}}",
        "<p>a<span class=\"error\">bucle de plantillas: «Plantilla:Bucle» se incluye a sí misma</span></p>",
    ),
    (
        "función desconocida",
        "{{Función}}",
        "<p><span class=\"error\">función desconocida: «#invoke»</span></p>",
    ),
    (
        "parámetro sin valor",
        "{{{1}}} {{{x|def}}}",
        "<p>{{{1}}} def</p>",
    ),
    ("llaves sueltas", "{{a|b", "<p>{{a|b</p>"),
    ("barra mágica", "{{!}}", "<p>|</p>"),
    ("saltos", "x<br>y<br/>z</br>", "<p>x<br>y<br>z<br></p>"),
    (
        "etiquetas en línea",
        "<small>p</small> <sup>2</sup> <sub>i</sub> <code>c</code> <s>t</s> <u>s</u>",
        "<p><small>p</small> <sup>2</sup> <sub>i</sub> <code>c</code> <s>t</s> <u>s</u></p>",
    ),
    (
        "span con clase",
        "<span class=\"nota\">n</span>",
        "<p><span class=\"nota\">n</span></p>",
    ),
    (
        "etiquetas cruzadas",
        "<b>a<i>b</b>c</i>",
        "<p><b>a<i>b</i></b><i>c</i></p>",
    ),
    ("cierre huérfano", "a</small>b", "<p>ab</p>"),
    (
        "sin cerrar al final",
        "<small>a\n\nb",
        "<p><small>a</small></p>\n<p>b</p>",
    ),
    (
        "entidades",
        "Dos &amp; tres&nbsp;€ &#233; &#x41; &bogus; & solo",
        "<p>Dos &amp; tres&nbsp;€ é A &amp;bogus; &amp; solo</p>",
    ),
    (
        "palabras mágicas",
        "__NOTOC__\nTexto __NOEDITSECTION__",
        "<p>Texto</p>",
    ),
    (
        "redirección",
        "#REDIRECCIÓN [[cuba]]",
        "<p class=\"redireccion\">Redirección a <a href=\"/wiki/Cuba\" title=\"Cuba\">Cuba</a></p>",
    ),
    // Hostile inputs: all of them must come out as inert text.
    (
        "script",
        "<script>alert(1)</script>",
        "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>",
    ),
    (
        "esquema javascript",
        "[javascript:alert(1) x]",
        "<p>[javascript:alert(1) x]</p>",
    ),
    (
        "esquema data",
        "[data:text/html,hola x]",
        "<p>[data:text/html,hola x]</p>",
    ),
    (
        "esquema vbscript",
        "[vbscript:msgbox y] vbscript:z",
        "<p>[vbscript:msgbox y] vbscript:z</p>",
    ),
    (
        "esquema en mayúsculas",
        "[JavaScript:alert(1)]",
        "<p>[JavaScript:alert(1)]</p>",
    ),
    (
        "img en la etiqueta de un enlace",
        "[[Página|<img src=x onerror=alert(1)>]]",
        "<p><a href=\"/wiki/P%C3%A1gina?accion=editar\" class=\"nuevo\" title=\"Página (la página no existe)\">&lt;img src=x onerror=alert(1)&gt;</a></p>",
    ),
    (
        "enlace interno a javascript:",
        "[[javascript:alert(1)]]",
        "<p><a href=\"/wiki/Javascript:alert(1)?accion=editar\" class=\"nuevo\" title=\"Javascript:alert(1) (la página no existe)\">javascript:alert(1)</a></p>",
    ),
    (
        "onclick en tabla",
        "{| onclick=\"x\"\n| celda\n|}",
        "<table>\n<tr>\n<td>celda</td>\n</tr>\n</table>",
    ),
    (
        "style en tabla y celda",
        "{| class=\"x\" style=\"background:url(javascript:alert(1))\"\n|-\n| style=\"x\" onclick=\"y\" | z\n|}",
        "<table class=\"x\">\n<tr>\n<td>z</td>\n</tr>\n</table>",
    ),
    (
        "onmouseover en span",
        "<span onmouseover=\"x\">texto</span>",
        "<p><span>texto</span></p>",
    ),
    (
        "comillas en la clase",
        "<span class='\" onclick=alert(1) x'>t</span>",
        "<p><span class=\"x\">t</span></p>",
    ),
    (
        "plantilla con script",
        "{{Malvada}}",
        "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>",
    ),
    (
        "argumento con script",
        "{{Saludo|<script>}}",
        "<p>¡Hola, &lt;script&gt;!</p>",
    ),
    (
        "comillas en la URL",
        "[https://ok\" onmouseover=\"x texto]",
        "<p><a class=\"externo\" rel=\"nofollow noopener\" href=\"https://ok\">&quot; onmouseover=&quot;x texto</a></p>",
    ),
    (
        "URL suelta con comillas",
        "https://ej.org/\"><script>",
        "<p><a class=\"externo\" rel=\"nofollow noopener\" href=\"https://ej.org/\">https://ej.org/</a>&quot;&gt;&lt;script&gt;</p>",
    ),
    (
        "enlace html",
        "<a href=\"javascript:alert(1)\">x</a>",
        "<p>&lt;a href=&quot;javascript:alert(1)&quot;&gt;x&lt;/a&gt;</p>",
    ),
    (
        "nowiki con script",
        "<nowiki><script></nowiki>",
        "<p>&lt;script&gt;</p>",
    ),
    (
        "entidad numérica de <",
        "&#60;script&#62;",
        "<p>&lt;script&gt;</p>",
    ),
    (
        "referencia con script",
        "a<ref><script>x</script></ref>",
        "<p>a<sup class=\"referencia\" id=\"cite_ref-1\"><a href=\"#cite_note-1\">[1]</a></sup></p>\n<ol class=\"referencias\"><li id=\"cite_note-1\"><a href=\"#cite_ref-1\">↑</a> &lt;script&gt;x&lt;/script&gt;</li></ol>",
    ),
    (
        "anidado sin cerrar",
        "'''''<small>''[[Cuba|'''x",
        "<p><i><b><small></small></b></i><b><small>[[Cuba|</small></b><small>x</small></p>",
    ),
    (
        "corchetes de más",
        "[[[Cuba]]]",
        "<p>[<a href=\"/wiki/Cuba\" title=\"Cuba\">Cuba</a>]</p>",
    ),
    ("enlace que no cierra", "[[Cuba", "<p>[[Cuba</p>"),
    (
        "caracter de control",
        "a\u{7f}0\u{7f}b\u{1}c",
        "<p>a0bc</p>",
    ),
    (
        "marcador falso",
        "<nowiki>x</nowiki>\u{7f}0\u{7f}",
        "<p>x0</p>",
    ),
];

#[test]
fn renders_the_table_of_inputs_to_the_expected_html() {
    let wiki = wiki();
    let mut failures = Vec::new();
    for (name, source, expected) in TABLE {
        let rendered = render(source, &wiki);
        if rendered.html.trim_end() != *expected {
            failures.push(format!(
                "{name}:\n  entrada:  {source:?}\n  esperado: {expected:?}\n  obtenido: {:?}",
                rendered.html
            ));
        }
        if let Err(problem) = check_html(&rendered.html) {
            failures.push(format!("{name}: HTML inseguro o desbalanceado: {problem}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} filas fallan:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(TABLE.len() >= 40);
}

#[test]
fn the_checker_rejects_what_it_must() {
    for bad in [
        "<script>x</script>",
        "<p onclick=\"x\">a</p>",
        "<a href=\"javascript:x\">a</a>",
        "<p>a",
        "<p><b>a</p></b>",
        "a > b",
        "a & b",
        "<img src=\"/x\">",
    ] {
        assert!(check_html(bad).is_err(), "{bad}");
    }
    assert!(check_html("<p><a href=\"/wiki/X\" title=\"X\">x</a><br></p>").is_ok());
}

#[test]
fn collects_categories_links_headings_and_references() {
    let wiki = wiki();
    let rendered = render(
        "== A ==\n[[Cuba]] [[cuba]] [[La_Habana|capital]] [[Archivo:Mapa.png]] [[Nada]] {{No existe}}\n== A ==\n=== B  c ===\n\
         [[Categoría:Historia de Cuba]] [[Category:historia_de_Cuba]] [[Categoría:Geografía|clave]]\n\
         x<ref>uno</ref><ref name=\"n\">dos</ref><ref name=\"n\"/>",
        &wiki,
    );
    assert_eq!(rendered.categories, ["Historia de Cuba", "Geografía"]);
    assert_eq!(
        rendered.links,
        ["Cuba", "La Habana", "Archivo:Mapa.png", "Nada"]
    );
    let headings: Vec<(u8, &str, &str)> = rendered
        .headings
        .iter()
        .map(|h| (h.level, h.text.as_str(), h.anchor.as_str()))
        .collect();
    assert_eq!(
        headings,
        [(2, "A", "A"), (2, "A", "A_2"), (3, "B c", "B_c")]
    );
    assert_eq!(rendered.references, 2);
    assert_eq!(rendered.redirect, None);
    assert!(rendered.errors.is_empty(), "{:?}", rendered.errors);
    assert!(rendered.html.contains("<h2 id=\"A_2\">A</h2>"));
}

#[test]
fn redirects_are_recognised_in_both_languages() {
    let cases: &[(&str, Option<&str>)] = &[
        ("#REDIRECT [[Cuba]]", Some("Cuba")),
        ("#redirect[[la_Habana#Historia|x]]", Some("La Habana")),
        ("  #Redirección: [[Plantilla:x]]", Some("Plantilla:X")),
        ("#REDIRECCION [[José Martí]]\nresto", Some("José Martí")),
        (
            "#redirección [[Categoría:Historia]]",
            Some("Categoría:Historia"),
        ),
        ("#REDIRECT Cuba", None),
        ("#REDIRECT [[Cu<ba]]", None),
        ("Texto #REDIRECT [[Cuba]]", None),
        ("#REDIRIGIR [[Cuba]]", None),
        ("# lista", None),
    ];
    for (source, expected) in cases {
        assert_eq!(redirect_target(source).as_deref(), *expected, "{source}");
    }
    let rendered = render("#REDIRECT [[Cuba]]\n[[Categoría:Redirecciones]]", &wiki());
    assert_eq!(rendered.redirect.as_deref(), Some("Cuba"));
    assert_eq!(rendered.categories, ["Redirecciones"]);
    assert_eq!(rendered.links, ["Cuba"]);
}

#[test]
fn titles_are_normalized_by_mediawiki_rules() {
    let valid: &[(&str, Namespace, &str, &str, &str)] = &[
        ("cuba", Namespace::Main, "Cuba", "Cuba", "/wiki/Cuba"),
        (
            "  josé__martí  ",
            Namespace::Main,
            "José martí",
            "José_martí",
            "/wiki/Jos%C3%A9_mart%C3%AD",
        ),
        (
            "Historia   de\u{a0}Cuba",
            Namespace::Main,
            "Historia de Cuba",
            "Historia_de_Cuba",
            "/wiki/Historia_de_Cuba",
        ),
        (
            "categoría:historia",
            Namespace::Category,
            "Categoría:Historia",
            "Categoría:Historia",
            "/wiki/Categor%C3%ADa:Historia",
        ),
        (
            "Category: Mapas",
            Namespace::Category,
            "Categoría:Mapas",
            "Categoría:Mapas",
            "/wiki/Categor%C3%ADa:Mapas",
        ),
        (
            "template:Ficha país",
            Namespace::Template,
            "Plantilla:Ficha país",
            "Plantilla:Ficha_país",
            "/wiki/Plantilla:Ficha_pa%C3%ADs",
        ),
        (
            "Talk:Cuba",
            Namespace::Talk,
            "Discusión:Cuba",
            "Discusión:Cuba",
            "/wiki/Discusi%C3%B3n:Cuba",
        ),
        (
            "usuario:ana",
            Namespace::User,
            "Usuario:Ana",
            "Usuario:Ana",
            "/wiki/Usuario:Ana",
        ),
        (
            "Image:x.png",
            Namespace::File,
            "Archivo:X.png",
            "Archivo:X.png",
            "/wiki/Archivo:X.png",
        ),
        (
            ":Categoría:X",
            Namespace::Category,
            "Categoría:X",
            "Categoría:X",
            "/wiki/Categor%C3%ADa:X",
        ),
        (
            "Cuba: historia",
            Namespace::Main,
            "Cuba: historia",
            "Cuba:_historia",
            "/wiki/Cuba:_historia",
        ),
        (
            "¿Qué?&x=1",
            Namespace::Main,
            "¿Qué?&x=1",
            "¿Qué?&x=1",
            "/wiki/%C2%BFQu%C3%A9%3F%26x%3D1",
        ),
        ("50 %", Namespace::Main, "50 %", "50_%", "/wiki/50_%25"),
        (
            "ñandú",
            Namespace::Main,
            "Ñandú",
            "Ñandú",
            "/wiki/%C3%91and%C3%BA",
        ),
    ];
    for (text, namespace, full, key, url) in valid {
        let title = normalize_title(text).unwrap_or_else(|e| panic!("{text}: {e}"));
        assert_eq!(title.namespace(), *namespace, "{text}");
        assert_eq!(title.text(), *full, "{text}");
        assert_eq!(title.key(), *key, "{text}");
        assert_eq!(title.url_path(), *url, "{text}");
        assert_eq!(
            normalize_title(&title.text()).as_ref(),
            Ok(&title),
            "idempotente: {text}"
        );
    }
    let long = "a".repeat(256);
    let invalid: &[(&str, TitleError)] = &[
        ("", TitleError::Empty),
        (" _ ", TitleError::Empty),
        (
            "Categoría:",
            TitleError::EmptyAfterNamespace {
                namespace: "Categoría",
            },
        ),
        (
            "a#b",
            TitleError::ForbiddenCharacter {
                character: '#',
                position: 1,
            },
        ),
        (
            "a<b",
            TitleError::ForbiddenCharacter {
                character: '<',
                position: 1,
            },
        ),
        (
            "[[a",
            TitleError::ForbiddenCharacter {
                character: '[',
                position: 0,
            },
        ),
        (
            "a|b",
            TitleError::ForbiddenCharacter {
                character: '|',
                position: 1,
            },
        ),
        (
            "{a}",
            TitleError::ForbiddenCharacter {
                character: '{',
                position: 0,
            },
        ),
        ("a\nb", TitleError::ControlCharacter { position: 1 }),
        ("a\tb", TitleError::ControlCharacter { position: 1 }),
        ("::x", TitleError::LeadingColon),
        ("a%41", TitleError::PercentEncoded { position: 1 }),
        ("..", TitleError::RelativePath),
        ("a/../b", TitleError::RelativePath),
        (
            &long,
            TitleError::TooLong {
                bytes: 256,
                max: 255,
            },
        ),
    ];
    for (text, error) in invalid {
        assert_eq!(normalize_title(text).as_ref(), Err(error), "{text:?}");
        assert!(!error.to_string().is_empty());
    }
    assert!(normalize_title(&"a".repeat(255)).is_ok());
    // 128 two-byte letters: 256 bytes.
    assert!(matches!(
        normalize_title(&"é".repeat(128)),
        Err(TitleError::TooLong { bytes: 256, .. })
    ));
}

#[test]
fn template_depth_and_loops_are_bounded() {
    let wiki = wiki();
    let deepest = render("{{N1}}", &wiki);
    assert_eq!(deepest.html.trim_end(), "<p>fondo</p>");
    assert!(deepest.errors.is_empty());
    let too_deep = render("{{M1}}", &wiki);
    assert_eq!(
        too_deep.errors,
        [MarkupError::TemplateTooDeep {
            name: format!("Plantilla:M{}", MAX_TEMPLATE_DEPTH + 1),
            max: MAX_TEMPLATE_DEPTH
        }]
    );
    assert!(too_deep.html.contains("<span class=\"error\">"));
    let mutual = render("{{Ping}}", &wiki);
    assert_eq!(
        mutual.errors,
        [MarkupError::TemplateLoop {
            name: "Plantilla:Ping".to_owned()
        }]
    );
}

#[test]
fn exponential_templates_stop_at_the_budget() {
    let mut wiki = wiki();
    wiki.templates
        .insert("Plantilla:X0".to_owned(), "x".repeat(1000));
    for level in 1..=7 {
        wiki.templates.insert(
            format!("Plantilla:X{level}"),
            format!("{{{{X{}}}}}", level - 1).repeat(10),
        );
    }
    wiki.templates
        .insert("Plantilla:Grande".to_owned(), "y".repeat(1024 * 1024));
    let started = Instant::now();
    let calls = render("{{X7}}", &wiki);
    assert!(
        calls
            .errors
            .iter()
            .any(|e| matches!(e, MarkupError::TooManyTemplates { .. })),
        "{:?}",
        calls.errors
    );
    let size = render(&"{{Grande}}".repeat(12), &wiki);
    assert!(
        size.errors
            .iter()
            .any(|e| matches!(e, MarkupError::ExpansionTooLarge { .. })),
        "{:?}",
        size.errors
    );
    assert!(size.html.len() < 10 * 1024 * 1024);
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "{:?}",
        started.elapsed()
    );
    check_html(&calls.html).unwrap();
    check_html(&size.html).unwrap();
}

#[test]
fn input_over_the_limit_is_refused_with_a_clear_error() {
    let rendered = render(&"a".repeat(MAX_INPUT_BYTES + 1), &wiki());
    assert_eq!(
        rendered.errors,
        [MarkupError::InputTooLarge {
            bytes: MAX_INPUT_BYTES + 1,
            max: MAX_INPUT_BYTES
        }]
    );
    assert!(
        rendered.html.contains("el máximo es 2097152"),
        "{}",
        rendered.html
    );
    check_html(&rendered.html).unwrap();
}

#[test]
fn pathological_inputs_render_fast_and_balanced() {
    let wiki = wiki();
    let cases = [
        "[[".repeat(500_000),
        "{{".repeat(500_000),
        "{{{".repeat(300_000),
        "[[a|".repeat(200_000),
        "[[Archivo:a|[[".repeat(70_000),
        "[http://a ".repeat(100_000),
        "<ref>".repeat(150_000),
        "<nowiki>".repeat(100_000),
        "<small>''".repeat(100_000),
        "''a'''\n".repeat(100_000),
        "*#:;".repeat(200_000),
        "{|\n".repeat(200_000),
        "<!--".repeat(200_000),
        format!("{}{}", "[[a]]".repeat(100_000), "]]".repeat(100_000)),
    ];
    for source in &cases {
        let started = Instant::now();
        let rendered = render(source, &wiki);
        let elapsed = started.elapsed();
        assert!(
            elapsed < Duration::from_secs(5),
            "{}…: {elapsed:?}",
            &source[..20]
        );
        assert!(
            rendered.html.len() < 40 * source.len() + 1000,
            "{}…",
            &source[..20]
        );
        check_html(&rendered.html).unwrap_or_else(|e| panic!("{}…: {e}", &source[..20]));
    }
}

#[test]
fn a_100_kb_article_renders_quickly() {
    let wiki = wiki();
    let section = "== Historia ==\nLa '''isla''' de [[Cuba]] tiene [[La Habana|capital]] y [[Página nueva]].<ref>Fuente [https://ejemplo.org aquí]</ref>\n\
        * Punto con ''cursiva'' y https://ejemplo.org/x\n# Otro {{Saludo|amigo}}\n{| class=\"wikitable\"\n! A !! B\n|-\n| 1 || 2\n|}\n\n";
    let source = section.repeat(100 * 1024 / section.len() + 1);
    let started = Instant::now();
    let rendered = render(&source, &wiki);
    let elapsed = started.elapsed();
    // Debug build on a shared machine; a release build takes a few milliseconds.
    assert!(elapsed < Duration::from_secs(2), "{elapsed:?}");
    assert!(rendered.errors.is_empty());
    assert!(rendered.references > 200);
    check_html(&rendered.html).unwrap();
}

/// Pieces of wikitext, hostile ones among them, for random pages.
const PIECES: &[&str] = &[
    "[[",
    "]]",
    "[",
    "]",
    "{{",
    "}}",
    "{{{",
    "}}}",
    "|",
    "||",
    "!!",
    "'''",
    "''",
    "'",
    "\n",
    "\n\n",
    "*",
    "#",
    ":",
    ";",
    "==",
    "=",
    "{|",
    "|}",
    "|-",
    "|+",
    "!",
    " ",
    "x",
    "Cuba",
    "Categoría:",
    "Archivo:",
    "<script>",
    "</script>",
    "<span onmouseover=\"x\">",
    "<span class=\"a\">",
    "</span>",
    "<small>",
    "</small>",
    "<b>",
    "</i>",
    "<br>",
    "<ref>",
    "</ref>",
    "<ref name=\"a\"/>",
    "<references/>",
    "<nowiki>",
    "</nowiki>",
    "<pre>",
    "</pre>",
    "<!--",
    "-->",
    "----",
    "javascript:alert(1)",
    "https://a.org",
    "mailto:x",
    "data:",
    "onclick=\"x\"",
    "\"",
    "&",
    "&amp;",
    "&#60;",
    "&#x3c;",
    "\u{7f}",
    "\u{7f}1\u{7f}",
    "á",
    "{{Saludo",
    "{{Ficha",
    "{{Malvada}}",
    "{{Bucle}}",
    "{{#if:",
    "{{#switch:",
    "style=\"x\"",
    "class=\"x\"",
    "<noinclude>",
    "<includeonly>",
    "__NOTOC__",
    "<",
    ">",
    "#REDIRECT [[Cuba]]",
];

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn random_wikitext_renders_safe_balanced_html(pieces in prop::collection::vec(prop::sample::select(PIECES), 0..60)) {
        let source: String = pieces.concat();
        let rendered = render(&source, &wiki());
        if let Err(problem) = check_html(&rendered.html) {
            prop_assert!(false, "{problem}\nentrada: {source:?}\nsalida: {:?}", rendered.html);
        }
    }

    #[test]
    fn arbitrary_text_never_panics(source in "\\PC{0,200}") {
        let rendered = render(&source, &wiki());
        prop_assert!(check_html(&rendered.html).is_ok(), "{:?}", rendered.html);
        let _ = redirect_target(&source);
        let _ = normalize_title(&source);
    }

    #[test]
    fn normalized_titles_are_stable(text in "[a-zA-Záéñ_ :]{1,40}") {
        if let Ok(title) = normalize_title(&text) {
            prop_assert_eq!(normalize_title(&title.text()), Ok(title.clone()));
            prop_assert_eq!(normalize_title(&title.key()), Ok(title.clone()));
            prop_assert!(!title.key().contains(' '));
        }
    }
}

/// (title, wikitext) of every page of a MediaWiki export, read crudely.
fn export_pages(xml: &str) -> Vec<(String, String)> {
    fn unescape(text: &str) -> String {
        text.replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&quot;", "\"")
            .replace("&#039;", "'")
            .replace("&amp;", "&")
    }
    xml.split("<page>")
        .skip(1)
        .filter_map(|page| {
            let title = page.split_once("<title>")?.1.split_once("</title>")?.0;
            let after_text = page.split_once("<text")?.1;
            let (attributes, rest) = after_text.split_once('>')?;
            let text = if attributes.ends_with('/') {
                ""
            } else {
                rest.split_once("</text>")?.0
            };
            Some((unescape(title), unescape(text)))
        })
        .collect()
}

#[test]
fn real_pages_of_a_mediawiki_export_render() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/data/mediawiki/testmw_pages_current.xml"
    );
    let xml = std::fs::read_to_string(path).expect("the MediaWiki export");
    let pages = export_pages(&xml);
    assert!(pages.len() > 150, "{}", pages.len());
    let mut wiki = Wiki::default();
    for (title, text) in &pages {
        let title = normalize_title(title).expect("export titles are valid");
        if title.namespace() == Namespace::Template {
            wiki.templates.insert(title.text(), text.clone());
        }
        wiki.pages.insert(title.text());
    }
    let mut by_title = HashMap::new();
    for (title, text) in &pages {
        let rendered = render(text, &wiki);
        check_html(&rendered.html).unwrap_or_else(|e| panic!("{title}: {e}"));
        by_title.insert(title.as_str(), rendered);
    }
    // The articles use only the supported subset: no error markers.
    for title in [
        "Test Wiki",
        "Deletion test",
        "Protect test",
        "Comment test",
        "Policy",
        "Main Page",
        "Request permissions",
        "Test Wiki:Request permissions",
        "User talk:AlDPa",
    ] {
        let rendered = &by_title[title];
        assert!(rendered.errors.is_empty(), "{title}: {:?}", rendered.errors);
        assert!(!rendered.html.contains("class=\"error\""), "{title}");
    }
    assert_eq!(by_title["Deletion test"].categories, ["List of test pages"]);
    assert_eq!(by_title["Main Page"].redirect.as_deref(), Some("Test Wiki"));
    assert_eq!(
        by_title["Policy"].redirect.as_deref(),
        Some("Test Wiki:Policy")
    );
    let home = &by_title["Test Wiki"];
    assert!(
        home.links
            .contains(&"Test Wiki:Request permissions".to_owned()),
        "{:?}",
        home.links
    );
    assert!(home.html.contains("<ul><li><a href=\"/wiki/Test_Wiki:Request_permissions\" title=\"Test Wiki:Request permissions\">Request permissions</a></li>"), "{}", home.html);
    let requests = &by_title["Test Wiki:Request permissions"];
    assert_eq!(
        requests.headings.first().map(|h| h.text.as_str()),
        Some("AlDPa")
    );
    assert!(
        requests.html.contains("<b>Done</b> by LisafBia"),
        "{}",
        requests.html
    );
    let talk = &by_title["User talk:AlDPa"];
    assert!(
        talk.html
            .contains("href=\"/wiki/Categor%C3%ADa:List_of_test_pages\""),
        "{}",
        talk.html
    );
}

#[test]
fn magic_variables_come_from_the_context() {
    let mut wiki = wiki();
    wiki.current = Some(normalize_title("josé_martí").unwrap());
    let rendered = render(
        "{{PAGENAME}}, {{PAGENAMEE}}, {{FULLPAGENAME}}, {{NAMESPACE}}, {{SITENAME}}, {{subst:Saludo}}",
        &wiki,
    );
    assert_eq!(
        rendered.html.trim_end(),
        "<p>José martí, Jos%C3%A9_mart%C3%AD, José martí, , Enciclopedia, ¡Hola, mundo!</p>"
    );
    wiki.current = Some(normalize_title("Plantilla:Ficha").unwrap());
    let rendered = render("{{FULLPAGENAMEE}} {{NAMESPACE}}", &wiki);
    assert_eq!(rendered.html.trim_end(), "<p>Plantilla:Ficha Plantilla</p>");
}

#[test]
fn page_addresses_come_from_the_host_unless_unsafe() {
    let own = render("[[José Martí]]", &Host("/enciclopedia/"));
    assert_eq!(
        own.html.trim_end(),
        "<p><a href=\"/enciclopedia/José_Martí\" title=\"José Martí\">José Martí</a></p>"
    );
    for hostile in [
        "javascript:alert(1)//",
        "//otro.sitio/",
        "data:text/html,",
        "/a b/",
    ] {
        let rendered = render("[[Cuba]]", &Host(hostile));
        assert_eq!(
            rendered.html.trim_end(),
            "<p><a href=\"/wiki/Cuba\" title=\"Cuba\">Cuba</a></p>",
            "{hostile}"
        );
    }
}
