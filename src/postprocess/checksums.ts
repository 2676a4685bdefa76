// The checks behind the rule detectors: IBAN mod-97 (ISO 13616 / ISO 7064), the Luhn check digit
// (ISO/IEC 7812-1), and the shape of an IPv6 address (RFC 4291 §2.2, without the embedded-IPv4 form).
// Each takes the matched text as it stands in the document (spaces and dashes included).

/** https://en.wikipedia.org/wiki/International_Bank_Account_Number#Validating_the_IBAN */
export function ibanValid(match: string): boolean {
  const iban = match.replace(/ /g, "").toUpperCase();
  if (!/^[A-Z]{2}\d{2}[A-Z0-9]{11,30}$/.test(iban)) return false;
  const rearranged = iban.slice(4) + iban.slice(0, 4);
  let remainder = 0;
  for (const char of rearranged) {
    // Letters count as two digits (A = 10 … Z = 35); the remainder is carried digit by digit.
    const digits = char >= "A" ? String(char.charCodeAt(0) - 55) : char;
    for (const digit of digits) remainder = (remainder * 10 + Number(digit)) % 97;
  }
  return remainder === 1;
}

/** https://en.wikipedia.org/wiki/Luhn_algorithm */
export function luhnValid(match: string): boolean {
  const digits = match.replace(/[ -]/g, "");
  if (!/^\d{13,19}$/.test(digits)) return false;
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let digit = Number(digits[digits.length - 1 - i]);
    if (i % 2 === 1) {
      digit *= 2;
      if (digit > 9) digit -= 9;
    }
    sum += digit;
  }
  return sum % 10 === 0;
}

/** Eight groups of 1–4 hex digits, or fewer with one "::" standing for the missing ones. */
export function ipv6Valid(match: string): boolean {
  const halves = match.split("::");
  if (halves.length > 2) return false;
  const groups = halves.flatMap((half) => (half === "" ? [] : half.split(":")));
  if (!groups.every((group) => /^[0-9A-Fa-f]{1,4}$/.test(group))) return false;
  // A bare "::" (the unspecified address) is left out: in prose it is far more often C++ or Ruby.
  return halves.length === 2 ? groups.length >= 1 && groups.length <= 7 : groups.length === 8;
}
