{#- dbt's own load_csv_rows writes each cell's placeholder with a macro call: 57,000 calls for the IMD 2019 seed
    (1,673 rows x 34 columns), about 13 s before the insert is even sent. The same statements, made a row and a
    chunk at a time. -#}
{% macro postgres__load_csv_rows(model, agate_table) %}
  {% set cols_sql = get_seed_column_quoted_csv(model, agate_table.column_names) %}
  {% set row_sql = "(" ~ ([get_binding_char()] * (agate_table.column_names | length)) | join(",") ~ ")" %}
  {% set statements = [] %}
  {% for chunk in agate_table.rows | batch(get_batch_size()) %}
    {% set bindings = [] %}
    {% for row in chunk %}
      {% do bindings.extend(row) %}
    {% endfor %}
    {% set sql = "insert into " ~ this.render() ~ " (" ~ cols_sql ~ ") values " ~ ([row_sql] * (chunk | length)) | join(",") %}
    {% do adapter.add_query(sql, bindings=bindings, abridge_sql_log=True) %}
    {% if loop.index0 == 0 %}
      {% do statements.append(sql) %}
    {% endif %}
  {% endfor %}
  {# The first statement goes into the compiled files, as dbt's own does. #}
  {{ return(statements[0]) }}
{% endmacro %}
