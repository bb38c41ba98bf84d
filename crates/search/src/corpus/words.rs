//! Spanish vocabulary for the generated corpus, written by hand: function words in
//! frequency order, then base forms that `corpus` inflects (plurals, gender, verb tenses),
//! Cuban places and people, and encyclopedia terms. Accents as in correct Spanish.

/// The most frequent Spanish words, roughly in frequency order (they head the Zipf ranks).
pub(crate) const FUNCTION_WORDS: &str = "\
de la que el en y a los se del las un por con no una su para es al lo como más o pero \
sus le ha me si sin sobre este ya entre cuando todo esta ser son dos también fue había \
era muy hasta desde está mi porque sólo han yo hay vez puede todos así nos ni parte \
tiene él uno donde bien tiempo mismo ese ahora cada e otro después te otros aunque esa \
eso hace otra tan durante siempre tanto ella tres sí sido gran según menos antes \
primera primer cual mientras sino contra tras fueron luego algunos algunas ese esos \
esas estos estas aquel aquella dentro fuera cerca lejos aún casi nunca hacia mediante \
cuatro cinco seis siete ocho nueve diez cien mil segundo tercera además incluso pues \
entonces quien quienes cuyo cuya cuyos tal tales varios varias muchos muchas poco pocos \
mucho demás ambos ambas alrededor junto debido través sea son estaba estaban fue fueron \
había habían tenía tenían hizo hicieron pudo dijo dio dieron vino llegó puso quiso \
tuvo tuvieron estuvo hubo sería serían será serán podía podían debe deben";

/// Nouns, singular; `corpus` adds the plurals.
pub(crate) const NOUNS: &str = "\
año día vida mundo país gobierno tiempo casa hombre mujer parte caso forma momento \
lugar trabajo historia ciudad pueblo nombre agua tierra guerra familia padre madre hijo \
hija niño niña escuela universidad hospital iglesia plaza calle puerto río mar playa \
montaña sierra valle llanura bahía cayo isla costa cueva lago laguna bosque selva monte \
campo finca ingenio central azúcar caña tabaco café cacao arroz maíz frijol yuca boniato \
plátano mango guayaba piña naranja limón coco aguacate tomate cebolla ajo carne cerdo \
pollo pescado langosta camarón leche queso pan dulce helado ron vino cerveza agua \
música canción danza baile son rumba guaracha bolero danzón mambo trova orquesta banda \
instrumento guitarra tres piano violín trompeta tambor conga clave maraca güiro \
literatura poesía poema novela cuento libro revista periódico prensa radio televisión \
cine película teatro obra autor escritor poeta pintor escultor músico cantante actor \
actriz director maestro profesor estudiante médico enfermera ingeniero arquitecto \
abogado campesino obrero pescador soldado general coronel capitán comandante presidente \
ministro diputado alcalde delegado líder héroe mártir patriota revolucionario \
revolución independencia república colonia imperio reino nación patria bandera escudo \
himno constitución ley derecho deber justicia libertad igualdad paz democracia pueblo \
economía industria agricultura ganadería minería pesca comercio turismo transporte \
ferrocarril carretera autopista puente aeropuerto avión barco buque tren ómnibus \
automóvil bicicleta caballo carreta camino sendero frontera límite región territorio \
provincia municipio capital barrio reparto comunidad asentamiento consejo poblado \
población habitante censo superficie kilómetro metro hectárea altura clima temperatura \
lluvia sequía huracán ciclón tormenta viento nube sol luna estrella cielo planeta \
ciencia tecnología investigación descubrimiento invento método sistema teoría \
experimento laboratorio instituto academia museo biblioteca archivo monumento estatua \
edificio palacio castillo fortaleza catedral convento capilla teatro parque jardín \
arquitectura estilo fachada columna torre muro puerta ventana techo patio escalera \
salud enfermedad epidemia vacuna medicina tratamiento paciente policlínico consultorio \
educación enseñanza alumno clase curso carrera título grado doctorado tesis \
deporte béisbol boxeo atletismo voleibol baloncesto fútbol ajedrez natación lucha \
campeonato torneo olimpiada medalla récord equipo jugador entrenador estadio juego \
animal planta árbol flor fruta hoja raíz semilla especie género familia reptil ave \
pájaro tocororo cocodrilo manatí jutía iguana mariposa abeja hormiga caracol polimita \
palma ceiba caoba cedro pino mangle majagua yagruma jagüey framboyán orquídea mariposa \
piedra mármol hierro níquel cobre oro plata petróleo gas carbón energía electricidad \
fábrica taller empresa cooperativa sindicato organización asociación federación \
partido movimiento congreso asamblea reunión acuerdo tratado pacto alianza \
batalla combate ataque defensa victoria derrota ejército tropa columna expedición \
desembarco invasión campaña guerrilla machete fusil cañón arma \
cultura tradición costumbre fiesta carnaval festival celebración aniversario \
religión santo virgen patrona fe creencia mito leyenda símbolo \
idioma lengua palabra letra texto documento carta discurso artículo enciclopedia \
fecha siglo década época período etapa fase origen fundación nacimiento muerte \
fundador hermano esposa esposo abuelo abuela tío tía primo amigo vecino compañero \
idea pensamiento opinión criterio concepto principio valor sentido razón causa efecto \
problema solución resultado proceso desarrollo crecimiento cambio transformación \
producción producto cosecha zafra exportación importación mercado precio dinero peso \
moneda banco salario trabajo empleo servicio necesidad recurso programa proyecto plan \
zapato ropa vestido camisa sombrero guayabera tela algodón cuero mueble mesa silla \
cama cocina comida plato receta sabor olor color forma tamaño número cantidad \
grupo conjunto serie lista orden nivel tipo clase modo manera medio centro norte sur \
este oeste occidente oriente centro interior exterior cima fondo orilla margen \
corriente cauce desembocadura nacimiento afluente cuenca embalse presa acueducto \
red servicio sistema computadora internet programa red datos información noticia \
premio honor distinción orden título reconocimiento homenaje memoria recuerdo";

/// Adjectives, masculine singular (or invariable); `corpus` adds the other forms.
pub(crate) const ADJECTIVES: &str = "\
nuevo grande bueno mayor importante social político nacional cubano español americano \
general público histórico cultural económico principal primero último largo alto bajo \
pequeño antiguo moderno actual central oriental occidental tropical natural humano \
propio mismo cierto posible necesario diferente distinto conocido famoso célebre \
popular tradicional típico rico pobre fuerte débil rápido lento claro oscuro blanco \
negro rojo verde azul amarillo hermoso bello feo joven viejo nuevo alegre triste \
libre independiente revolucionario colonial republicano militar civil religioso \
científico técnico médico educativo deportivo artístico musical literario teatral \
agrícola industrial comercial turístico marino costero montañoso fluvial urbano rural \
municipal provincial local regional internacional mundial universal total especial \
único simple complejo difícil fácil útil común raro frecuente seco húmedo caliente \
fresco templado fértil abundante escaso extenso amplio estrecho profundo llano \
destacado notable excelente mejor peor menor superior inferior anterior posterior \
primitivo original auténtico verdadero falso justo digno heroico valiente patriótico \
endémico autóctono silvestre salvaje doméstico dulce amargo salado sabroso";

/// Regular verbs (and -uir verbs), infinitive; `corpus` conjugates them.
pub(crate) const VERBS: &str = "\
hablar llamar llegar pasar quedar llevar dejar considerar trabajar tomar nacer vivir \
crear formar presentar ganar luchar participar fundar ocupar realizar desarrollar \
organizar dirigir estudiar enseñar publicar cantar bailar tocar pintar construir \
destruir incluir contribuir distribuir constituir cultivar cosechar exportar importar \
comerciar navegar desembarcar atacar combatir liberar proclamar declarar firmar votar \
nombrar designar representar dedicar celebrar conmemorar honrar visitar viajar \
recorrer explorar investigar analizar describir explicar indicar señalar destacar \
resaltar alcanzar lograr recibir aceptar rechazar iniciar terminar concluir continuar \
cambiar transformar mejorar aumentar disminuir reducir crecer ampliar ubicar situar \
limitar rodear cruzar habitar emigrar regresar partir salir entrar subir bajar correr \
caminar nadar entrenar clasificar derrotar vencer empatar dominar controlar \
administrar coordinar apoyar ayudar proteger conservar restaurar reconstruir inaugurar \
edificar diseñar grabar interpretar estrenar actuar filmar editar imprimir aprender \
comprender conocer parecer pertenecer aparecer desaparecer establecer ofrecer \
reconocer merecer permanecer favorecer fortalecer enriquecer vender comprar pagar \
cobrar elaborar fabricar procesar transportar comunicar informar anunciar denunciar \
criticar reformar fundamentar apreciar acompañar aportar asistir cumplir decidir \
dividir existir ocurrir permitir resistir sufrir unir vincular integrar marcar \
orientar plantear preparar registrar trasladar valorar utilizar";

/// Cuban places (provinces, municipalities, geography), as written.
pub(crate) const PLACES: &[&str] = &[
    "Cuba",
    "La Habana",
    "Pinar del Río",
    "Artemisa",
    "Mayabeque",
    "Matanzas",
    "Cienfuegos",
    "Villa Clara",
    "Sancti Spíritus",
    "Ciego de Ávila",
    "Camagüey",
    "Las Tunas",
    "Holguín",
    "Granma",
    "Santiago de Cuba",
    "Guantánamo",
    "Isla de la Juventud",
    "Viñales",
    "Trinidad",
    "Baracoa",
    "Bayamo",
    "Manzanillo",
    "Remedios",
    "Caibarién",
    "Sagua la Grande",
    "Cárdenas",
    "Varadero",
    "Jagüey Grande",
    "Colón",
    "Moa",
    "Mayarí",
    "Banes",
    "Gibara",
    "Nuevitas",
    "Morón",
    "Florida",
    "Jatibonico",
    "Yaguajay",
    "Placetas",
    "Ranchuelo",
    "Cruces",
    "Palmira",
    "Cumanayagua",
    "Aguada de Pasajeros",
    "Güines",
    "Jaruco",
    "Madruga",
    "San José de las Lajas",
    "Bejucal",
    "Batabanó",
    "Mariel",
    "Guanajay",
    "Bauta",
    "Caimito",
    "Alquízar",
    "Güira de Melena",
    "San Antonio de los Baños",
    "Consolación del Sur",
    "Los Palacios",
    "Sandino",
    "Mantua",
    "Minas de Matahambre",
    "Guane",
    "Bahía Honda",
    "Candelaria",
    "San Cristóbal",
    "Contramaestre",
    "Palma Soriano",
    "El Cobre",
    "Niquero",
    "Pilón",
    "Media Luna",
    "Jiguaní",
    "Yara",
    "Bartolomé Masó",
    "Campechuela",
    "Puerto Padre",
    "Jesús Menéndez",
    "Amancio",
    "Majibacoa",
    "Jobabo",
    "Manatí",
    "Sibanicú",
    "Guáimaro",
    "Vertientes",
    "Esmeralda",
    "Santa Cruz del Sur",
    "Caimanera",
    "Maisí",
    "Imías",
    "Yateras",
    "San Antonio del Sur",
    "Niceto Pérez",
    "Sierra Maestra",
    "Escambray",
    "Ciénaga de Zapata",
    "Pico Turquino",
    "Bahía de Cochinos",
    "Playa Girón",
    "Malecón",
    "Vedado",
    "Miramar",
    "Habana Vieja",
    "Centro Habana",
    "Regla",
    "Guanabacoa",
    "Cayo Coco",
    "Cayo Largo",
    "Topes de Collantes",
    "río Cauto",
    "río Almendares",
    "Valle de los Ingenios",
    "Sierra del Rosario",
    "Cuchillas del Toa",
    "Península de Guanahacabibes",
    "Santa Clara",
    "Caribe",
    "Golfo de México",
    "Estrecho de la Florida",
    "América Latina",
    "España",
];

/// People of Cuban history and culture, as written.
pub(crate) const PEOPLE: &[&str] = &[
    "José Martí",
    "Antonio Maceo",
    "Máximo Gómez",
    "Carlos Manuel de Céspedes",
    "Celia Sánchez",
    "Camilo Cienfuegos",
    "Ernesto Guevara",
    "Frank País",
    "Julio Antonio Mella",
    "Nicolás Guillén",
    "Alejo Carpentier",
    "José Lezama Lima",
    "Dulce María Loynaz",
    "Gertrudis Gómez de Avellaneda",
    "Ignacio Agramonte",
    "Mariana Grajales",
    "Benny Moré",
    "Ernesto Lecuona",
    "Wifredo Lam",
    "Alicia Alonso",
    "Félix Varela",
    "Carlos Juan Finlay",
    "José Raúl Capablanca",
    "Rita Montaner",
    "Compay Segundo",
    "Juan Almeida",
    "Haydée Santamaría",
    "Abel Santamaría",
    "Vilma Espín",
    "Pablo de la Torriente Brau",
    "José María Heredia",
    "Cirilo Villaverde",
    "Eliseo Diego",
    "Fina García Marruz",
    "Teófilo Stevenson",
    "Alberto Juantorena",
    "Ana Fidelia Quirot",
    "Javier Sotomayor",
    "Bola de Nieve",
    "Pérez Prado",
    "Celia Cruz",
    "Omara Portuondo",
    "Silvio Rodríguez",
    "Pablo Milanés",
    "Amelia Peláez",
    "Virgilio Piñera",
    "Cintio Vitier",
    "Tomás Estrada Palma",
    "Calixto García",
    "Quintín Banderas",
    "Guillermón Moncada",
];
