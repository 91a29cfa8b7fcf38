package io.github.cdk_event_driven_glue_workflow.ingest;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Finds a key of a JSON text that a schema does not name, in one scan of the text.
 *
 * <p>The default Glue job parses JSON Lines with the table's schema, and Spark's parser
 * drops a key the schema lacks without a word. Before it trusts such a parse, the job
 * asks this class, through Spark's {@code reflect} function, for the first key of each
 * line that the schema does not name: one pass over the characters, no object built.
 * Spark's own functions would tokenize each line once per nesting level.
 *
 * <p>The schema comes as a <em>spec</em>, built by the job's Python side: a list of
 * fields, each {@code <length>:<name>}, the name's length counted in UTF-16 units, then
 * either {@code {fields}} for a struct (or an array of structs, at any depth) or nothing
 * for a value whose keys are not checked (scalars, maps, arrays of scalars). For
 * example {@code 4:name4:dims{1:w1:h}}.
 *
 * <p>Keys are compared as the JSON parser would see them: escapes such as
 * {@code \u0041} are decoded. A text that is not well-formed JSON gives whatever was
 * found before the scan lost its way: the parse flags such a line as corrupt anyway.
 */
public final class JsonKeys {
  /** A struct's known keys; {@code null} values stand for fields whose inside is not checked. */
  private static final class Struct {
    final Map<String, Struct> fields = new HashMap<>();
  }

  private static volatile String lastSpec;
  private static volatile Struct lastRoot;

  private JsonKeys() {
  }

  /**
   * The path of the first key of {@code json} that {@code spec} does not name, or
   * {@code ""} when every key is named (or {@code json} is null).
   *
   * <p>The path is written as jq writes it: {@code .depth} at the top, {@code .dims.depth}
   * below a struct, {@code .items[].sku} below an array of structs; so it is never empty,
   * not even for the key {@code ""} (path {@code .}).
   */
  public static String firstUnknownKey(String spec, String json) {
    if (json == null || spec == null) {
      return "";
    }
    Struct root = lastRoot;
    if (!spec.equals(lastSpec)) {
      root = parseSpec(spec);
      lastRoot = root;
      lastSpec = spec;
    }
    String found = scan(root, json);
    return found == null ? "" : found;
  }

  /** Parses a spec (see the class comment); throws IllegalArgumentException when it is malformed. */
  static Struct parseSpec(String spec) {
    Struct root = new Struct();
    int end = parseFields(spec, 0, root);
    if (end != spec.length()) {
      throw new IllegalArgumentException("unexpected '" + spec.charAt(end) + "' at " + end + " in the key spec");
    }
    return root;
  }

  private static int parseFields(String spec, int at, Struct into) {
    int i = at;
    while (i < spec.length() && spec.charAt(i) != '}') {
      int colon = spec.indexOf(':', i);
      if (colon < 0) {
        throw new IllegalArgumentException("field without ':' at " + i + " in the key spec");
      }
      int length = Integer.parseInt(spec.substring(i, colon));
      String name = spec.substring(colon + 1, colon + 1 + length);
      i = colon + 1 + length;
      Struct inner = null;
      if (i < spec.length() && spec.charAt(i) == '{') {
        inner = new Struct();
        i = parseFields(spec, i + 1, inner);
        if (i >= spec.length() || spec.charAt(i) != '}') {
          throw new IllegalArgumentException("unclosed '{' in the key spec");
        }
        i++;
      }
      into.fields.put(name, inner);
    }
    return i;
  }

  /** One open object or array of the scan, with the struct its keys are checked against. */
  private static final class Level {
    final boolean object;
    final Struct struct;   // null: nothing below is checked
    final String prefix;   // what the path of a key directly inside starts with

    Level(boolean object, Struct struct, String prefix) {
      this.object = object;
      this.struct = struct;
      this.prefix = prefix;
    }
  }

  static String scan(Struct root, String s) {
    List<Level> stack = new ArrayList<>();
    int n = s.length();
    int i = 0;
    // The field of the last key read: what a '{' or '[' right after it opens.
    Struct value = null;
    String valuePath = "";
    while (i < n) {
      char c = s.charAt(i);
      if (c == '"') {
        int start = i + 1;
        int j = start;
        boolean escaped = false;
        while (j < n && s.charAt(j) != '"') {
          if (s.charAt(j) == '\\') {
            escaped = true;
            j++;
          }
          j++;
        }
        if (j >= n) {
          return null;   // an unterminated string: not JSON
        }
        i = j + 1;
        Level top = stack.isEmpty() ? null : stack.get(stack.size() - 1);
        if (top == null || !top.object) {
          continue;      // a string in an array, or a lone string
        }
        int k = i;
        while (k < n && isSpace(s.charAt(k))) {
          k++;
        }
        if (k >= n || s.charAt(k) != ':') {
          continue;      // a string value
        }
        i = k + 1;
        value = null;
        if (top.struct == null) {
          continue;
        }
        String key = escaped ? unescape(s, start, j) : s.substring(start, j);
        if (key == null) {
          return null;
        }
        if (!top.struct.fields.containsKey(key)) {
          return top.prefix + "." + key;
        }
        value = top.struct.fields.get(key);
        valuePath = top.prefix + "." + key;
        continue;
      }
      if (c == '{' || c == '[') {
        Level top = stack.isEmpty() ? null : stack.get(stack.size() - 1);
        Level level;
        if (top == null) {
          level = new Level(c == '{', root, "");
        } else if (!top.object) {
          level = new Level(c == '{', top.struct, top.prefix);   // an element of an array
        } else if (value == null) {
          level = new Level(c == '{', null, "");
        } else {
          level = new Level(c == '{', value, valuePath + (c == '{' ? "" : "[]"));
        }
        stack.add(level);
        value = null;
        i++;
        continue;
      }
      if (c == '}' || c == ']') {
        if (stack.isEmpty()) {
          return null;
        }
        stack.remove(stack.size() - 1);
        value = null;
      }
      i++;
    }
    return null;
  }

  private static boolean isSpace(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
  }

  /** The decoded text of a JSON string's content s[start, end); null when an escape is malformed. */
  private static String unescape(String s, int start, int end) {
    StringBuilder out = new StringBuilder(end - start);
    int i = start;
    while (i < end) {
      char c = s.charAt(i);
      if (c != '\\') {
        out.append(c);
        i++;
        continue;
      }
      if (i + 1 >= end) {
        return null;
      }
      char e = s.charAt(i + 1);
      switch (e) {
        case '"': out.append('"'); break;
        case '\\': out.append('\\'); break;
        case '/': out.append('/'); break;
        case 'b': out.append('\b'); break;
        case 'f': out.append('\f'); break;
        case 'n': out.append('\n'); break;
        case 'r': out.append('\r'); break;
        case 't': out.append('\t'); break;
        case 'u':
          if (i + 6 > end) {
            return null;
          }
          try {
            out.append((char) Integer.parseInt(s.substring(i + 2, i + 6), 16));
          } catch (NumberFormatException bad) {
            return null;
          }
          i += 4;
          break;
        default:
          return null;
      }
      i += 2;
    }
    return out.toString();
  }
}
