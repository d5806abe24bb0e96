/**
 * Packer's boot command syntax, parsed into actions QMP `send-key` can carry: plain characters
 * (with Shift where the US layout needs it), special keys (`<enter>`, `<f1>`, `<up>`…),
 * modifier holds (`<leftShiftOn>` … `<leftShiftOff>`), and waits (`<wait>`, `<wait5>`,
 * `<wait500ms>`, `<wait1m30s>`).
 */
import { parseDuration } from "../../../lang/duration.js";

/** One thing to do while typing. */
export type BootAction =
  /** Press and release these QEMU key codes together (modifiers first). */
  | { readonly kind: "keys"; readonly keys: readonly string[] }
  /** Hold a modifier down (`on`) or release it (`off`) for the keys that follow. */
  | { readonly kind: "hold"; readonly key: string; readonly down: boolean }
  /** Wait. */
  | { readonly kind: "wait"; readonly ms: number };

/** Special keys by Packer name → QEMU qcode. */
const SPECIAL: Readonly<Record<string, string>> = {
  bs: "backspace", del: "delete", enter: "ret", return: "ret", esc: "esc", tab: "tab", spacebar: "spc",
  insert: "insert", home: "home", end: "end", pageup: "pgup", pagedown: "pgdn",
  up: "up", down: "down", left: "left", right: "right",
  leftalt: "alt", rightalt: "alt_r", leftctrl: "ctrl", rightctrl: "ctrl_r", leftshift: "shift", rightshift: "shift_r",
  leftsuper: "meta_l", rightsuper: "meta_r", menu: "menu", sysrq: "sysrq", pause: "pause", print: "print",
  capslock: "caps_lock", numlock: "num_lock", scrolllock: "scroll_lock",
  ...Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`f${i + 1}`, `f${i + 1}`])),
};

/** Modifiers that `<xOn>`/`<xOff>` hold, by Packer name → qcode. */
const MODIFIERS: Readonly<Record<string, string>> = {
  leftalt: "alt", rightalt: "alt_r", leftctrl: "ctrl", rightctrl: "ctrl_r", leftshift: "shift", rightshift: "shift_r", leftsuper: "meta_l", rightsuper: "meta_r",
};

/** Unshifted characters of the US layout → qcode. */
const PLAIN: Readonly<Record<string, string>> = {
  " ": "spc", "-": "minus", "=": "equal", "[": "bracket_left", "]": "bracket_right", ";": "semicolon", "'": "apostrophe",
  "`": "grave_accent", "\\": "backslash", ",": "comma", ".": "dot", "/": "slash", "\n": "ret", "\t": "tab",
};
/** Shifted characters → the qcode typed with Shift. */
const SHIFTED: Readonly<Record<string, string>> = {
  "!": "1", "@": "2", "#": "3", $: "4", "%": "5", "^": "6", "&": "7", "*": "8", "(": "9", ")": "0", _: "minus", "+": "equal",
  "{": "bracket_left", "}": "bracket_right", ":": "semicolon", '"': "apostrophe", "~": "grave_accent", "|": "backslash",
  "<": "comma", ">": "dot", "?": "slash",
};

/** The key codes (with `shift` first when needed) that type one character. */
export function keysForChar(ch: string): string[] {
  if (/^[a-z0-9]$/.test(ch)) return [ch];
  if (/^[A-Z]$/.test(ch)) return ["shift", ch.toLowerCase()];
  if (PLAIN[ch]) return [PLAIN[ch]!];
  if (SHIFTED[ch]) return ["shift", SHIFTED[ch]!];
  throw new Error(`boot command: the character ${JSON.stringify(ch)} cannot be typed on a US keyboard layout`);
}

/** Parses boot command lines (joined as Packer does: no separator) into actions. */
export function parseBootCommand(lines: readonly string[]): BootAction[] {
  const text = lines.join("");
  const actions: BootAction[] = [];
  const re = /<([A-Za-z0-9]+)>/g;
  let last = 0;
  const typeText = (s: string) => {
    for (const ch of s) actions.push({ kind: "keys", keys: keysForChar(ch) });
  };
  for (const m of text.matchAll(re)) {
    const name = m[1]!;
    const action = special(name);
    if (!action) continue; // not a key name: typed as text below
    typeText(text.slice(last, m.index));
    actions.push(action);
    last = m.index! + m[0].length;
  }
  typeText(text.slice(last));
  return actions;
}

function special(name: string): BootAction | undefined {
  const lower = name.toLowerCase();
  if (lower === "wait") return { kind: "wait", ms: 1000 };
  if (lower.startsWith("wait")) {
    const rest = lower.slice(4);
    if (/^\d+$/.test(rest)) return { kind: "wait", ms: Number(rest) * 1000 };
    try {
      return { kind: "wait", ms: parseDuration(rest) };
    } catch {
      return undefined;
    }
  }
  const hold = /^(.*)(on|off)$/.exec(lower);
  if (hold && MODIFIERS[hold[1]!]) return { kind: "hold", key: MODIFIERS[hold[1]!]!, down: hold[2] === "on" };
  if (SPECIAL[lower]) return { kind: "keys", keys: [SPECIAL[lower]!] };
  return undefined;
}

/**
 * Fills Packer's template placeholders of boot commands: `{{ .HTTPIP }}`, `{{ .HTTPPort }}`,
 * `{{ .Name }}` (spacing inside the braces is free).
 */
export function fillPlaceholders(line: string, values: { httpIp?: string; httpPort?: number; name: string }): string {
  return line.replace(/\{\{\s*\.(HTTPIP|HTTPPort|Name)\s*\}\}/g, (whole, key: string) => {
    const v = key === "HTTPIP" ? values.httpIp : key === "HTTPPort" ? values.httpPort : values.name;
    if (v === undefined) throw new Error(`boot command uses ${whole} but there is no HTTP server (set httpDirectory or httpContent)`);
    return String(v);
  });
}
