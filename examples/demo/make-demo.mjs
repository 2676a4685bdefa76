// Writes the demo corpus nerkit's quickstart trains on: sentences from varied templates filled with
// invented names (thousands of people, places, organisations and events built from syllables), in
// CoNLL IOB2 with the types PER, ORG, LOC and MISC. Deterministic (a seeded generator): run it again
// and the files are the same. Every name list is split in two: training sentences use seven tenths
// of each list, dev and test sentences the whole list, so close to half of their entities were
// never seen in training. The showcase sentences quickstart predicts on (showcase.txt) use names that
// occur nowhere in train.conll, which test/demo-data.test.ts checks.
// What it leaves out: real names, and any claim about real text (a model trained here knows only
// these templates).
// Usage: node examples/demo/make-demo.mjs [DIR]   (writes train.conll, dev.conll, test.conll and
// showcase.txt into DIR, by default beside this script)

import { writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));

const SIZES = { train: 3000, dev: 400, test: 400 };

/** The sentences quickstart predicts on; their names are kept out of every generated file. */
const SHOWCASE = [
  "Marisol Quennby flew from Ostravik to Port Belharra for the Glimmerwood Film Festival .",
  "A spokesperson for Trevanion Analytics said Dr. Oyelaran Pettigrew will visit Castelmare next week .",
  "Shares of Halvorsen Brothers Bank fell after the Zanthorian government announced new rules .",
];
const SHOWCASE_WORDS = new Set(["Marisol", "Quennby", "Ostravik", "Belharra", "Glimmerwood", "Trevanion", "Oyelaran", "Pettigrew", "Castelmare", "Halvorsen", "Zanthorian"]);

let state = 20261203;
const random = () => {
  state = (state + 0x6d2b79f5) >>> 0;
  let t = state;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};
const pick = (list) => list[Math.floor(random() * list.length)];
const chance = (p) => random() < p;

// Syllables for invented words; the showcase words are filtered out after generation.
const ONSETS = ["b", "br", "c", "d", "dr", "f", "g", "gr", "h", "j", "k", "kr", "l", "m", "n", "p", "pr", "r", "s", "sh", "st", "t", "tr", "v", "w", "z", "th", "ch", "sl", "bl"];
const VOWELS = ["a", "e", "i", "o", "u", "a", "e", "o", "ai", "ei", "ia", "ou", "ea", "y"];
const CODAS = ["", "", "", "", "n", "r", "l", "s", "m", "k", "nd", "rt", "ss", "x"];

function syllable() {
  return pick(ONSETS) + pick(VOWELS) + pick(CODAS);
}
function stem(syllables) {
  let word = "";
  for (let i = 0; i < syllables; i++) word += syllable();
  return word[0].toUpperCase() + word.slice(1);
}

/** `count` distinct words from `make`, none of them a showcase word. */
function distinct(count, make) {
  const out = new Set();
  while (out.size < count) {
    const word = make();
    if (word.length >= 3 && word.length <= 14 && !SHOWCASE_WORDS.has(word)) out.add(word);
  }
  return [...out];
}

const FIRST = distinct(1500, () => stem(chance(0.6) ? 2 : 3).replace(/[^aeiouy]$/, (c) => c + pick(["a", "o", "i", "e", ""])));
const LAST = distinct(2000, () => stem(2) + pick(["", "", "", "son", "sen", "ova", "ez", "ini", "berg", "ski", "ard", "ley", "well", "ani"]));
const PLACE_STEMS = distinct(1200, () => stem(2) + pick(["", "", "burg", "ford", "stad", "ville", "mouth", "holm", "grad", "pur", "abad", "field", "haven", "ton", "dale", "ia", "a"]));
const ORG_STEMS = distinct(1000, () => stem(chance(0.5) ? 2 : 1) + pick(["", "", "co", "tek", "ix", "on", "ex"]));
const NATION_STEMS = distinct(300, () => stem(2) + pick(["ian", "ese", "ish", "ic", "an"]));
const EVENT_STEMS = distinct(400, () => stem(chance(0.5) ? 2 : 3));

const ORG_TAILS = ["Bank", "Group", "Airlines", "Motors", "Telecom", "Foods", "Energy", "Holdings", "Insurance", "Pharma", "Logistics", "Systems", "Labs", "Partners", "Media", "Capital", "Mining", "Steel", "Rail", "Press", "Analytics", "Brothers Bank", "Football Club", "Power"];
const EVENT_TAILS = ["Film Festival", "Marathon", "Cup", "Prize", "Awards", "Trade Fair", "Music Week", "Open", "Games", "Book Prize", "Summit"];
const PLACE_PREFIXES = ["Port", "San", "Lake", "New", "North", "South", "Fort", "Saint"];

// Each entity kind: a full list, split into the names training may use and the rest.
function people() {
  return [...Array(3000)].map(() => (chance(0.12) ? `${pick(["Dr.", "Mr.", "Ms."])} ` : "") + `${pick(FIRST)} ${pick(LAST)}`);
}
const KINDS = {
  PER: people(),
  LOC: PLACE_STEMS.map((p) => (chance(0.2) ? `${pick(PLACE_PREFIXES)} ${p}` : p)),
  ORG: ORG_STEMS.map((o) => (chance(0.1) ? `University of ${pick(PLACE_STEMS)}` : `${o} ${pick(ORG_TAILS)}`)),
  EVENT: EVENT_STEMS.map((e) => `${e} ${pick(EVENT_TAILS)}`),
  NATION: NATION_STEMS,
};
// A title (Dr.) stays outside the PER entity, as in CoNLL-2003.
const split = (list) => [list.slice(0, Math.ceil(list.length * 0.7)), list];
const POOLS = Object.fromEntries(Object.entries(KINDS).map(([kind, list]) => [kind, split(list)]));

const tagged = (text, type) => text.split(" ").map((w, i) => [w, `${i === 0 ? "B" : "I"}-${type}`]);
const words = (text) => text.split(" ").filter((w) => w !== "").map((w) => [w, "O"]);
function person(side) {
  const name = pick(POOLS.PER[side]);
  const title = /^(Dr\.|Mr\.|Ms\.) /.exec(name);
  return title ? [...words(title[1]), ...tagged(name.slice(title[0].length), "PER")] : tagged(name, "PER");
}

const DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];
const MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];
const NUMBER = () => String(1 + Math.floor(random() * 400));

// Templates: functions of the entity makers and the fillers; O words are plain text.
const TEMPLATES = [
  (e) => [...e.per(), ...words(pick(["joined", "left", "rejoined"])), ...e.org(), ...words(`in ${pick(MONTHS)} .`)],
  (e) => [...e.org(), ...words(`opened a new ${pick(["office", "factory", "store", "branch"])} in`), ...e.loc(), ...words(`on ${pick(DAYS)} .`)],
  (e) => [...e.per(), ...words(`, ${pick(["chief engineer", "a director", "the chairman", "a lawyer"])} at`), ...e.org(), ...words(", spoke in"), ...e.loc(), ...words(".")],
  (e) => [...words("Shares of"), ...e.org(), ...words(`${pick(["rose", "fell", "jumped", "slipped"])} ${NUMBER()} percent after the`), ...e.event(), ...words(".")],
  (e) => [...e.per(), ...words("won the"), ...e.event(), ...words(pick(["for her novel .", "for his work .", "last year .", "on Sunday ."]))],
  (e) => [...e.per(), ...words("and"), ...e.per(), ...words("signed the agreement in"), ...e.loc(), ...words(".")],
  (e) => [...words("The"), ...e.event(), ...words("returns to"), ...e.loc(), ...words(`in ${pick(MONTHS)} .`)],
  (e) => [...e.per(), ...words("told reporters that"), ...e.org(), ...words(`would cut ${NUMBER()} jobs .`)],
  (e) => [...words("Customers in"), ...e.loc(), ...words("reported outages after the"), ...e.org(), ...words("upgrade .")],
  (e) => [...e.per(), ...words("flew from"), ...e.loc(), ...words("to"), ...e.loc(), ...words("for the"), ...e.event(), ...words(".")],
  (e) => [...e.org(), ...words(`reported profits of ${NUMBER()} million euros .`)],
  (e) => [...words("A spokesperson for"), ...e.org(), ...words("said"), ...e.per(), ...words("will visit"), ...e.loc(), ...words("next week .")],
  (e) => [...words("The"), ...e.nation(), ...words(`government ${pick(["announced", "rejected", "delayed"])} new rules on ${pick(DAYS)} .`)],
  (e) => [...e.nation(), ...words(`officials met ${pick(["their counterparts", "investors", "farmers"])} in`), ...e.loc(), ...words(".")],
  (e) => [...words("Shares of"), ...e.org(), ...words(`${pick(["fell", "rose"])} after the`), ...e.nation(), ...words("government announced new rules .")],
  (e) => [...words(`${pick(["Police", "Officials", "Witnesses"])} in`), ...e.loc(), ...words("said the fire started early on"), ...words(`${pick(DAYS)} .`)],
  (e) => [...words("According to"), ...e.per(), ...words(", the"), ...e.event(), ...words("drew record crowds .")],
  (e) => [...e.org(), ...words("beat"), ...e.org(), ...words(`${NUMBER().slice(0, 1)}-${NUMBER().slice(0, 1)} in`), ...e.loc(), ...words(".")],
  (e) => [...e.per(), ...words(`, ${NUMBER().slice(0, 2)} , from`), ...e.loc(), ...words(", finished second .")],
  (e) => [...words("Speaking in"), ...e.nation(), ...words(","), ...e.per(), ...words("thanked the fans .")],
  (e) => [...e.loc(), ...words(`will host the`), ...e.event(), ...words(`next ${pick(["year", "spring", "summer"])} .`)],
  (e) => [...words(`On ${pick(DAYS)} ,`), ...e.per(), ...words("met the head of"), ...e.org(), ...words("in"), ...e.loc(), ...words(".")],
  (e) => [...words("Analysts at"), ...e.org(), ...words("expect growth to slow in"), ...e.loc(), ...words(".")],
  (e) => [...e.per(), ...words(pick(["said", "added", "warned"])), ...words(`the talks would resume in ${pick(MONTHS)} .`)],
  (e) => [...words("The mayor of"), ...e.loc(), ...words(","), ...e.per(), ...words(", opened the"), ...e.event(), ...words(".")],
  (e) => [...e.org(), ...words("and"), ...e.org(), ...words("agreed to merge , the companies said .")],
  (e) => [...words(`${pick(["Heavy rain", "Snow", "A storm"])} closed roads between`), ...e.loc(), ...words("and"), ...e.loc(), ...words(".")],
  (e) => [...words(`The ${pick(["report", "study", "survey"])} was published on ${pick(DAYS)} by`), ...e.org(), ...words(".")],
  (e) => [...words(`${pick(["Prices", "Rents", "Fares"])} rose ${NUMBER()} percent in ${pick(MONTHS)} , the statistics office said .`)],
  (e) => [...words(`The ${pick(["meeting", "vote", "hearing"])} was postponed until ${pick(DAYS)} .`)],
];

function sentences(count, side) {
  const e = {
    per: () => person(side),
    org: () => tagged(pick(POOLS.ORG[side]), "ORG"),
    loc: () => tagged(pick(POOLS.LOC[side]), "LOC"),
    event: () => tagged(pick(POOLS.EVENT[side]), "MISC"),
    nation: () => tagged(pick(POOLS.NATION[side]), "MISC"),
  };
  const lines = ["-DOCSTART- O", ""];
  for (let i = 0; i < count; i++) {
    for (const [w, t] of pick(TEMPLATES)(e)) lines.push(`${w} ${t}`);
    lines.push("");
  }
  return lines.join("\n");
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const out = process.argv[2] ?? here;
  writeFileSync(join(out, "train.conll"), sentences(SIZES.train, 0));
  writeFileSync(join(out, "dev.conll"), sentences(SIZES.dev, 1));
  writeFileSync(join(out, "test.conll"), sentences(SIZES.test, 1));
  writeFileSync(join(out, "showcase.txt"), SHOWCASE.join("\n") + "\n");
  console.log(`wrote train.conll (${SIZES.train} sentences), dev.conll and test.conll (${SIZES.dev} and ${SIZES.test}), showcase.txt`);
}
