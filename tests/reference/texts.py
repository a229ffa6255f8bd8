"""The texts every parity fixture is computed on (shared by the reference
scripts). Each one is there for a reason, given in the comment."""

LONG = " ".join(
    "In the long afternoon the committee read every clause of the proposal aloud, "
    "argued over the budget line by line, and adjourned without agreement."
    for _ in range(12)
)  # far beyond 256 tokens: exercises truncation at max_seq_length

TEXTS = [
    "The quick brown fox jumps over the lazy dog.",          # short English
    "Hello",                                                  # one word
    "A man is playing a guitar on the stage while the crowd sings along with every chorus.",
    LONG,
    "!!! ... ??? ;;; --- ***",                                # punctuation only
    "I love pizza 🍕🍕 and sushi 🍣! 👨‍👩‍👧‍👦",                          # emoji, ZWJ sequence
    "今天天气很好，我们去公园散步吧。",                           # Chinese
    "客户投诉物流太慢",                                          # short Chinese, like the seed's texts
    "東京は日本の首都です。",                                      # Japanese
    "Привет, как дела?",                                      # Cyrillic
    "مرحبا بالعالم",                                           # Arabic (right to left)
    "नमस्ते दुनिया",                                             # Devanagari
    "   leading and trailing whitespace\t\n ",                # stripped like Python's str.strip()
    "",                                                       # the empty string
    "Café naïve façade – “quotes” and accents",               # accents, typographic quotes
    "x" * 3000,                                               # one enormous word
    " \t\n  \u3000 ",                                          # whitespace only
    "nul\x00inside\x00text",                                   # NUL characters
    "\x01\x02control\x7f chars \x1b[0m",                       # control characters
    "\u202eevil\u202c and \u200f\u05e9\u05dc\u05d5\u05dd",            # bidi overrides, Hebrew
    "replacement \ufffd char",                                # what an unpaired surrogate becomes
    "cafe\u0301 with a combining accent",                      # combining character
]
