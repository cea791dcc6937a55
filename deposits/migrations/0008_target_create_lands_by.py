from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("deposits", "0007_account_hold"),
    ]

    operations = [
        migrations.AddField(
            model_name="target",
            name="create_lands_by",
            field=models.DateTimeField(blank=True, null=True),
        ),
    ]
