from tortoise import migrations
from tortoise.migrations import operations as ops
from server.planning.models import DependencyType
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0001_initial')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Baseline',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('project', fields.ForeignKeyField('models.Project', source_field='project_id', db_constraint=True, to_field='id', related_name='baselines', on_delete=OnDelete.CASCADE)),
                ('name', fields.CharField(max_length=100)),
                ('approved_by', fields.ForeignKeyField('models.User', source_field='approved_by_id', null=True, db_constraint=True, to_field='id', related_name='approved_baselines', on_delete=OnDelete.SET_NULL)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'baseline', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='BaselineTask',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('baseline', fields.ForeignKeyField('models.Baseline', source_field='baseline_id', db_constraint=True, to_field='id', related_name='tasks', on_delete=OnDelete.CASCADE)),
                ('task', fields.ForeignKeyField('models.Task', source_field='task_id', db_constraint=True, to_field='id', related_name='baseline_rows', on_delete=OnDelete.CASCADE)),
                ('start', fields.DateField()),
                ('finish', fields.DateField()),
            ],
            options={'table': 'baseline_task', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='CalendarDay',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('day', fields.DateField(unique=True)),
                ('is_working', fields.BooleanField()),
                ('name', fields.CharField(default='', max_length=64)),
                ('source', fields.CharField(default='admin', max_length=32)),
            ],
            options={'table': 'calendar_day', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Dependency',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('project', fields.ForeignKeyField('models.Project', source_field='project_id', db_constraint=True, to_field='id', related_name='dependencies', on_delete=OnDelete.CASCADE)),
                ('predecessor', fields.ForeignKeyField('models.Task', source_field='predecessor_id', db_constraint=True, to_field='id', related_name='successor_links', on_delete=OnDelete.CASCADE)),
                ('successor', fields.ForeignKeyField('models.Task', source_field='successor_id', db_constraint=True, to_field='id', related_name='predecessor_links', on_delete=OnDelete.CASCADE)),
                ('type', fields.CharEnumField(default=DependencyType.FS, description='FS: FS\nSS: SS\nFF: FF\nSF: SF', enum_type=DependencyType, max_length=2)),
                ('lag_days', fields.IntField(default=0)),
                ('pair', fields.CharField(unique=True, max_length=32)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'dependency', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ProjectCalendarDay',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('project', fields.ForeignKeyField('models.Project', source_field='project_id', db_constraint=True, to_field='id', related_name='calendar_days', on_delete=OnDelete.CASCADE)),
                ('day', fields.DateField()),
                ('is_working', fields.BooleanField()),
                ('name', fields.CharField(default='', max_length=64)),
                ('pair', fields.CharField(unique=True, max_length=32)),
            ],
            options={'table': 'project_calendar_day', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='TaskSchedule',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('task', fields.OneToOneField('models.Task', source_field='task_id', db_constraint=True, to_field='id', related_name='schedule', on_delete=OnDelete.CASCADE)),
                ('project_id', fields.IntField(db_index=True)),
                ('early_start', fields.DateField()),
                ('early_finish', fields.DateField()),
                ('late_start', fields.DateField()),
                ('late_finish', fields.DateField()),
                ('total_float', fields.IntField()),
                ('free_float', fields.IntField()),
                ('is_critical', fields.BooleanField()),
            ],
            options={'table': 'task_schedule', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='Task',
            name='actual_finish',
            field=fields.DateField(null=True),
        ),
        ops.AddField(
            model_name='Task',
            name='actual_start',
            field=fields.DateField(null=True),
        ),
        ops.AddField(
            model_name='Task',
            name='buffer_days',
            field=fields.IntField(default=0),
        ),
    ]
