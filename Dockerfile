# The amc-joor image: Airflow 3.3.2 with the pinned requirements and this package installed.
FROM apache/airflow:3.3.2-python3.11
USER airflow
COPY --chown=airflow:0 requirements.txt constraints.txt pyproject.toml README.md /opt/amc-joor/
COPY --chown=airflow:0 include /opt/amc-joor/include
RUN pip install --no-cache-dir -r /opt/amc-joor/requirements.txt -c /opt/amc-joor/constraints.txt \
 && pip install --no-cache-dir --no-deps /opt/amc-joor
