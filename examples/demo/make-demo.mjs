// Writes the demo corpus nerkit's quickstart trains on: sentences built from templates and lists of
// invented names (people, companies, places, events), in CoNLL IOB2. Deterministic: run it again
// and the files are the same. Training sentences draw names from four fifths of each list; dev and
// test sentences from the whole lists, so part of their names were never seen in training.
// Usage: node examples/demo/make-demo.mjs   (writes train.conll, dev.conll, test.conll beside it)

import { writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));

let state = 20261126;
const random = () => {
  state = (state + 0x6d2b79f5) >>> 0;
  let t = state;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};
const pick = (list) => list[Math.floor(random() * list.length)];

const FIRST = ["Maria", "Kofi", "Aiko", "Pablo", "Elena", "Tomas", "Ravi", "Fatima", "Jonas", "Lucia", "Amir", "Ingrid", "Chen", "Olga", "Samuel", "Nadia", "Hugo", "Priya", "Mateo", "Leila", "Viktor", "Zara", "Oskar", "Mei", "Dario", "Anouk", "Kwame", "Sofia", "Emil", "Yara"];
const LAST = ["Lindqvist", "Mensah", "Tanaka", "Herrera", "Popescu", "Novak", "Iyer", "Zahra", "Weber", "Romano", "Haddad", "Berg", "Wu", "Ivanova", "Okafor", "Karim", "Moreau", "Nair", "Silva", "Farah", "Petrov", "Ahmed", "Nyberg", "Lin", "Conti", "de Vries", "Boateng", "Ruiz", "Lund", "Saleh"];
const ORG_HEAD = ["Nordhavn", "Brightwater", "Greenleaf", "Sunfield", "Quanta", "Midwest", "Andes", "Hollis", "Bluecrest", "Ironwood", "Silverline", "Redstone", "Clearwater", "Northgate", "Evergreen", "Starling", "Westbrook", "Oakridge", "Lakeshore", "Highland"];
const ORG_TAIL = ["Logistics", "Foods", "Energy", "Bank", "Analytics", "Power", "Mining", "Systems", "Group", "Motors", "Airlines", "Telecom", "Pharma", "Holdings", "Insurance"];
const PLACES = ["Gothenburg", "Kumasi", "Osaka", "Lisbon", "Koblenz", "Prague", "Pune", "Bergen", "Vienna", "Singapore", "Montreal", "Beirut", "Nova Scotia", "Ohio", "Chile", "Peru", "Milan", "Accra", "Valmora", "Tallinn", "Porto", "Kyoto", "Quebec", "Durban", "Lyon", "Cork", "Malmo", "Tbilisi", "Hanoi", "Quito"];
const EVENTS = ["Winter Harvest Festival", "Golden Pen Award", "Global Water Forum", "Northern Lights Marathon", "Spring Trade Fair", "Harbour Music Week", "Ocean Film Festival", "Silver Key Prize"];

// Training names: the first four fifths of each list; dev and test: all of it.
const split = (list) => [list.slice(0, Math.ceil(list.length * 0.8)), list];
const pools = Object.fromEntries(Object.entries({ FIRST, LAST, ORG_HEAD, ORG_TAIL, PLACES, EVENTS }).map(([k, v]) => [k, split(v)]));

const entity = (text, type) => text.split(" ").map((w, i) => [w, `${i === 0 ? "B" : "I"}-${type}`]);
const words = (text) => text.split(" ").map((w) => [w, "O"]);

const TEMPLATES = [
  (e) => [...e.per(), ...words("joined"), ...e.org(), ...words("in"), ...e.loc(), ...words("last spring .")],
  (e) => [...e.org(), ...words("opened a new office in"), ...e.loc(), ...words("on Monday .")],
  (e) => [...e.per(), ...words(", chief engineer at"), ...e.org(), ...words(", spoke in"), ...e.loc(), ...words(".")],
  (e) => [...words("Shares of"), ...e.org(), ...words("rose 3 percent after the"), ...e.misc(), ...words(".")],
  (e) => [...e.per(), ...words("won the"), ...e.misc(), ...words("for her work .")],
  (e) => [...e.per(), ...words("and"), ...e.per(), ...words("signed the agreement in"), ...e.loc(), ...words(".")],
  (e) => [...words("The"), ...e.misc(), ...words("returns to"), ...e.loc(), ...words("in December .")],
  (e) => [...e.per(), ...words("told reporters that"), ...e.org(), ...words("would cut 400 jobs .")],
  (e) => [...words("Customers in"), ...e.loc(), ...words("reported outages after the"), ...e.org(), ...words("upgrade .")],
  (e) => [...e.per(), ...words("flew from"), ...e.loc(), ...words("to"), ...e.loc(), ...words("for the"), ...e.misc(), ...words(".")],
  (e) => [...e.org(), ...words("reported profits of 1.1 billion euros .")],
  (e) => [...words("A spokesperson for"), ...e.org(), ...words("said"), ...e.per(), ...words("will visit"), ...e.loc(), ...words("next week .")],
];

function corpus(count, side) {
  const p = (key) => pools[key][side];
  const e = {
    per: () => entity(`${pick(p("FIRST"))} ${pick(p("LAST"))}`, "PER"),
    org: () => entity(`${pick(p("ORG_HEAD"))} ${pick(p("ORG_TAIL"))}`, "ORG"),
    loc: () => entity(pick(p("PLACES")), "LOC"),
    misc: () => entity(pick(p("EVENTS")), "MISC"),
  };
  const lines = ["-DOCSTART- O", ""];
  for (let i = 0; i < count; i++) {
    for (const [w, t] of pick(TEMPLATES)(e)) lines.push(`${w} ${t}`);
    lines.push("");
  }
  return lines.join("\n");
}

writeFileSync(join(here, "train.conll"), corpus(600, 0));
writeFileSync(join(here, "dev.conll"), corpus(150, 1));
writeFileSync(join(here, "test.conll"), corpus(150, 1));
console.log("wrote train.conll (600 sentences), dev.conll and test.conll (150 each)");
