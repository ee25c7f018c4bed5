package collab.devnode.analysis;

import org.apache.lucene.analysis.TokenStream;
import org.apache.lucene.analysis.en.EnglishMinimalStemFilter;
import org.apache.lucene.analysis.en.EnglishPossessiveFilter;
import org.apache.lucene.analysis.en.KStemFilter;
import org.apache.lucene.analysis.en.PorterStemFilter;
import org.apache.lucene.analysis.snowball.SnowballFilter;
import org.elasticsearch.common.settings.Settings;
import org.elasticsearch.index.analysis.TokenFilterFactory;
import org.tartarus.snowball.ext.EnglishStemmer;

import java.util.Locale;
import java.util.function.UnaryOperator;

/**
 * The stemmer filter's language table. English variants match Elasticsearch exactly; any other language
 * name goes to Lucene's Snowball stemmer of that name (Elasticsearch uses Lucene light stemmers for a few).
 */
final class Stemmers {

    private Stemmers() {}

    static TokenFilterFactory filter(String name, Settings settings) {
        String language = settings.get("language", settings.get("name", "english"));
        return TokenFilters.filter(name, forLanguage(language));
    }

    private static UnaryOperator<TokenStream> forLanguage(String language) {
        return switch (language.toLowerCase(Locale.ROOT)) {
            case "english", "porter" -> PorterStemFilter::new;
            case "light_english", "kstem" -> KStemFilter::new;
            case "minimal_english" -> EnglishMinimalStemFilter::new;
            case "possessive_english" -> EnglishPossessiveFilter::new;
            case "porter2" -> stream -> new SnowballFilter(stream, new EnglishStemmer());
            default -> snowball(language);
        };
    }

    private static UnaryOperator<TokenStream> snowball(String language) {
        String stemmerName = Character.toUpperCase(language.charAt(0)) + language.substring(1).toLowerCase(Locale.ROOT);
        try {
            Class.forName("org.tartarus.snowball.ext." + stemmerName + "Stemmer");
        } catch (ClassNotFoundException e) {
            throw new IllegalArgumentException("Unknown stemmer language [" + language + "]");
        }
        return stream -> new SnowballFilter(stream, stemmerName);
    }
}
