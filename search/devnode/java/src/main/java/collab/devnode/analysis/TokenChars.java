package collab.devnode.analysis;

import org.elasticsearch.common.settings.Settings;

import java.util.List;
import java.util.Locale;
import java.util.function.IntPredicate;

/** Parses the ngram tokenizers' token_chars classes (letter, digit, whitespace, punctuation, symbol, custom). */
final class TokenChars {

    private TokenChars() {}

    /** Returns null when token_chars is empty: then every character belongs to a token, as in Elasticsearch. */
    static IntPredicate parse(Settings settings) {
        List<String> classes = settings.getAsList("token_chars");
        if (classes.isEmpty()) {
            return null;
        }
        IntPredicate matcher = c -> false;
        for (String tokenClass : classes) {
            matcher = matcher.or(forClass(tokenClass.toLowerCase(Locale.ROOT).trim(), settings));
        }
        return matcher;
    }

    private static IntPredicate forClass(String tokenClass, Settings settings) {
        return switch (tokenClass) {
            case "letter" -> Character::isLetter;
            case "digit" -> Character::isDigit;
            case "whitespace" -> Character::isWhitespace;
            case "punctuation" -> c -> switch (Character.getType(c)) {
                case Character.START_PUNCTUATION, Character.END_PUNCTUATION, Character.OTHER_PUNCTUATION,
                    Character.CONNECTOR_PUNCTUATION, Character.DASH_PUNCTUATION, Character.INITIAL_QUOTE_PUNCTUATION,
                    Character.FINAL_QUOTE_PUNCTUATION -> true;
                default -> false;
            };
            case "symbol" -> c -> switch (Character.getType(c)) {
                case Character.CURRENCY_SYMBOL, Character.MATH_SYMBOL, Character.OTHER_SYMBOL, Character.MODIFIER_SYMBOL -> true;
                default -> false;
            };
            case "custom" -> {
                String custom = settings.get("custom_token_chars");
                if (custom == null) {
                    throw new IllegalArgumentException("Token type: [custom] requires setting [custom_token_chars]");
                }
                yield c -> custom.indexOf(c) >= 0;
            }
            default -> throw new IllegalArgumentException(
                "Unknown token type: '" + tokenClass + "', must be one of [letter, digit, whitespace, punctuation, symbol, custom]"
            );
        };
    }
}
