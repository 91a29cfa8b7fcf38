package io.github.cdk_event_driven_glue_workflow.ingest;

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
  /**
   * A struct's known keys, in an open-addressing table that a key is looked up in
   * straight from the line's characters (no substring, no allocation per key).
   * A {@code null} child stands for a field whose inside is not checked.
   */
  static final class Struct {
    private String[] keys = new String[8];
    private Struct[] children = new Struct[8];
    private int size;

    void put(String key, Struct child) {
      if ((size + 1) * 2 > keys.length) {
        String[] oldKeys = keys;
        Struct[] oldChildren = children;
        keys = new String[oldKeys.length * 2];
        children = new Struct[oldKeys.length * 2];
        size = 0;
        for (int i = 0; i < oldKeys.length; i++) {
          if (oldKeys[i] != null) {
            put(oldKeys[i], oldChildren[i]);
          }
        }
      }
      int slot = slot(key, 0, key.length());
      if (keys[slot] == null) {
        size++;
      }
      keys[slot] = key;
      children[slot] = child;
    }

    /** The slot of the key s[start, end): where it is, or the empty slot it would take. */
    int slot(String s, int start, int end) {
      int hash = 0;
      for (int i = start; i < end; i++) {
        hash = 31 * hash + s.charAt(i);
      }
      int mask = keys.length - 1;
      int slot = (hash ^ (hash >>> 16)) & mask;
      int length = end - start;
      while (keys[slot] != null
          && !(keys[slot].length() == length && keys[slot].regionMatches(0, s, start, length))) {
        slot = (slot + 1) & mask;
      }
      return slot;
    }
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
      into.put(name, inner);
    }
    return i;
  }

  /**
   * The scan: one pass over the characters, keeping per open object or array the
   * struct its keys are checked against ({@code null}: not checked) and the known key
   * that opened it (to write the path of an unknown key, the only thing it allocates).
   */
  static String scan(Struct root, String s) {
    int n = s.length();
    Struct[] structs = new Struct[16];
    String[] openedBy = new String[16];
    boolean[] object = new boolean[16];
    int depth = 0;                 // open levels
    Struct value = null;           // the struct of the last key's field, for a '{' or '[' after it
    String valueKey = null;
    int backslash = s.indexOf('\\');   // the next backslash at or after a string's start, -1 for none
    int i = 0;
    while (i < n) {
      char c = s.charAt(i);
      if (c == '"') {
        int start = i + 1;
        // The closing quote by String.indexOf (vectorized by the JVM); the character
        // loop runs only for a string with a backslash in it.
        if (backslash >= 0 && backslash < start) {
          backslash = s.indexOf('\\', start);
        }
        int j = s.indexOf('"', start);
        boolean escaped = backslash >= 0 && j > backslash;
        if (escaped) {
          j = backslash;
          while (j < n) {
            char d = s.charAt(j);
            if (d == '"') {
              break;
            }
            j += d == '\\' ? 2 : 1;
          }
        }
        if (j < 0 || j >= n) {
          return null;   // an unterminated string: not JSON
        }
        i = j + 1;
        if (depth == 0 || !object[depth - 1]) {
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
        valueKey = null;
        Struct struct = structs[depth - 1];
        if (struct == null) {
          continue;
        }
        String key = null;
        int slot;
        if (escaped) {
          key = unescape(s, start, j);
          if (key == null) {
            return null;
          }
          slot = struct.slot(key, 0, key.length());
        } else {
          slot = struct.slot(s, start, j);
        }
        if (struct.keys[slot] == null) {
          return path(openedBy, object, depth) + "." + (key != null ? key : s.substring(start, j));
        }
        value = struct.children[slot];
        valueKey = struct.keys[slot];
        continue;
      }
      if (c == '{' || c == '[') {
        if (depth == structs.length) {
          structs = java.util.Arrays.copyOf(structs, depth * 2);
          openedBy = java.util.Arrays.copyOf(openedBy, depth * 2);
          object = java.util.Arrays.copyOf(object, depth * 2);
        }
        if (depth == 0) {
          structs[0] = root;
          openedBy[0] = null;
        } else if (!object[depth - 1]) {
          structs[depth] = structs[depth - 1];   // an element of an array
          openedBy[depth] = null;
        } else {
          structs[depth] = value;
          openedBy[depth] = value == null ? null : valueKey;
        }
        object[depth] = c == '{';
        depth++;
        value = null;
        i++;
        continue;
      }
      if (c == '}' || c == ']') {
        if (depth == 0) {
          return null;
        }
        depth--;
        value = null;
      }
      i++;
    }
    return null;
  }

  /** The jq path of the innermost open object (".dims", ".items[]", "" at the top). */
  private static String path(String[] openedBy, boolean[] object, int depth) {
    StringBuilder path = new StringBuilder();
    for (int level = 1; level < depth; level++) {
      if (openedBy[level] != null) {
        path.append('.').append(openedBy[level]);
      }
      if (!object[level]) {
        path.append("[]");
      }
    }
    return path.toString();
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
